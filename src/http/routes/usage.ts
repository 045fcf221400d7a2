import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { csvStream } from '../../util/csv.ts';
import { queryUsage, type UsageQuery, type UsageRow, usageWindow } from '../../billing/usage.ts';
import { ApiError } from '../../contract/errors.ts';
import type { Db } from '../../store/db.ts';
import type { Clock } from '../../util/clock.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

const day = z.union([z.string().regex(/^\d{1,11}$/), z.iso.date()], { error: 'must be unix seconds or a YYYY-MM-DD date' });

/** The query of a usage report: the window (whole UTC days) and the output format. */
export const usageWindowQuery = {
  since: day.optional().describe('First day: unix seconds or YYYY-MM-DD (UTC); default 29 days before `until`'),
  until: day.optional().describe('Last day, included: unix seconds or YYYY-MM-DD (UTC); default today'),
  format: z.enum(['json', 'csv']).default('json').describe('csv: the same rows as a CSV download'),
};

export const usageReportSchema = z.object({
  object: z.literal('list'), group_by: z.string(), since: z.string(), until: z.string(),
  data: z.array(z.object({
    day: z.string().optional(), model: z.string().optional(), user: z.string().optional(), channel: z.string().optional(),
    tasks: z.number(), completed: z.number(), failed: z.number(), cancelled: z.number(), billed_seconds: z.number(),
    credits_charged: z.number(), credits_released: z.number(), p50_s: z.number().nullable(), p95_s: z.number().nullable(),
  })),
}).meta({ id: 'UsageReport' });

/** Sends a CSV download. */
export function sendCsv(reply: FastifyReply, fileName: string, body: Readable) {
  return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${fileName}"`).send(body);
}

/** Runs a usage report and answers it as JSON or as CSV. */
export async function answerUsage(db: Db, reply: FastifyReply, window: { since?: string; until?: string; format: 'json' | 'csv' }, query: Omit<UsageQuery, 'sinceDay' | 'untilDay'>, now: number) {
  const { sinceDay, untilDay } = usageWindow(window, now);
  if (sinceDay > untilDay) throw new ApiError('invalid_request', `since: ${sinceDay} is after until (${untilDay})`, { param: 'since' });
  const data = await queryUsage(db, { ...query, sinceDay, untilDay });
  if (window.format === 'csv') {
    const columns = [query.groupBy, 'tasks', 'completed', 'failed', 'cancelled', 'billed_seconds', 'credits_charged', 'credits_released', 'p50_s', 'p95_s'];
    return sendCsv(reply, `usage-by-${query.groupBy}-${sinceDay}-${untilDay}.csv`, csvStream(columns, asyncOf(data), (row: UsageRow) => columns.map((c) => row[c])));
  }
  return { object: 'list' as const, group_by: query.groupBy, since: sinceDay, until: untilDay, data };
}

async function* asyncOf<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** GET /v1/usage (CONTRACT §10.3): the caller's user's usage by day or by model. */
export const usageRoutes: FastifyPluginAsyncZod<{ db: Db; clock: Clock }> = async (app, { db, clock }) => {
  app.get('/usage', {
    schema: {
      summary: 'Your user\'s usage', operationId: 'getUsage', tags: ['keys'], security: [{ bearerAuth: [] }],
      description: 'Tasks, outcomes, billed seconds, credits and times from create to end, per UTC day or per model; from the same rows as the ledger, so it agrees with GET /v1/credits.',
      querystring: z.object({ group_by: z.enum(['day', 'model']).default('day'), ...usageWindowQuery }),
      response: { 200: usageReportSchema, ...errorResponses },
    },
  }, (request, reply) => answerUsage(db, reply, request.query, { groupBy: request.query.group_by, userId: callerOf(request).userId }, clock.now()));
};

import { timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../contract/errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Db } from '../../store/db.ts';
import type { ObjectStore } from '../../storage/index.ts';

const statusSchema = z.object({ status: z.string(), store: z.string().optional(), storage: z.string().optional() });

/**
 * Liveness, readiness (the store answers) and Prometheus metrics; no API key (metrics may have a
 * token of their own). For operators, not API clients: the README documents them, not /openapi.json.
 */
export const healthRoutes: FastifyPluginAsyncZod<{ db: Db; objects: ObjectStore; metrics: Metrics; metricsToken?: string }> = async (app, { db, objects, metrics, metricsToken }) => {
  app.get('/healthz', {
    schema: { hide: true, summary: 'Liveness', description: 'The process answers.', response: { 200: statusSchema } },
    handler: async () => ({ status: 'ok' }),
  });

  app.get('/readyz', {
    schema: { hide: true, summary: 'Readiness', description: 'The store and the object storage answer within 2 s; 503 otherwise.', response: { 200: statusSchema, 503: statusSchema } },
    async handler(_request, reply) {
      const [store, storage] = await Promise.all([
        withTimeout(sql`select 1`.execute(db), 2000).then(() => 'ok', () => 'unreachable'),
        withTimeout(objects.check(), 2000).then(() => 'ok', () => 'unreachable'),
      ]);
      const ready = store === 'ok' && storage === 'ok';
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', store, storage });
    },
  });

  app.get('/metrics', {
    schema: { hide: true, summary: 'Prometheus metrics', description: 'Text exposition format. With VIDGATE_METRICS_TOKEN set, send it as a Bearer token.' },
    async handler(request, reply) {
      if (metricsToken && !sameSecret(request.headers.authorization ?? '', `Bearer ${metricsToken}`)) {
        throw new ApiError('unauthorized', 'Authorization: /metrics needs "Bearer <VIDGATE_METRICS_TOKEN>"');
      }
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  });
};

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

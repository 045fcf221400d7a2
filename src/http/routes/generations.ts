import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../contract/errors.ts';
import { type GenerationRequest, generationRequestSchema, resolveModelId } from '../../contract/models/index.ts';
import { taskViewSchema } from '../../contract/task-view.ts';
import { idempotentRequest } from '../../tasks/idempotency.ts';
import type { TaskService } from '../../tasks/service.ts';
import { callerOf } from '../auth.ts';
import { createErrorResponses } from '../openapi.ts';

const headersSchema = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'must be 1–255 visible ASCII characters')
    .optional()
    .describe('A repeat with the same body within 24 h answers the same task, without a new charge'),
});

const estimateSchema = z
  .object({
    object: z.literal('task.estimate'),
    model: z.string(),
    quality: z.string(),
    billing_rule: z.string(),
    billed_seconds: z.number().describe("Seconds billed: the output's length, or 1 for a per-call model"),
    video_duration: z.number(),
    credits: z.number().describe('What create would reserve now, at the live prices'),
    estimated_time: z.number().describe('Seconds a task would take, as create would estimate it'),
  })
  .meta({ id: 'TaskEstimate' });

/** Old client names become the documented id, and an unknown id is named with the closest one, before the per-model schema runs. */
async function resolveModel(request: { body: unknown }): Promise<void> {
  const body = request.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) (body as Record<string, unknown>).model = resolveModelId((body as Record<string, unknown>).model);
}

export const generationsRoutes: FastifyPluginAsyncZod<{ tasks: TaskService; defaultRpm: number }> = async (app, { tasks, defaultRpm }) => {
  const rpmOf = (request: Parameters<typeof callerOf>[0]) => callerOf(request).rpm ?? defaultRpm;
  // Per key and per API process; 0 = no limit. Reads (polling) are never limited.
  await app.register(rateLimit, {
    global: false,
    hook: 'preParsing',
    keyGenerator: (request) => callerOf(request).keyId,
    max: (request) => rpmOf(request),
    allowList: (request) => rpmOf(request) === 0,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) =>
      new ApiError('rate_limit_exceeded', `this key may create ${context.max} tasks a minute; retry in ${context.after}`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
      }),
  });

  app.post('/videos/generations', {
    config: { rateLimit: {} },
    schema: {
      summary: 'Create a video generation task', operationId: 'createVideoGeneration',
      description: 'The `model` field selects the schema. Media URLs are fetched and checked before the task is accepted; its credits are reserved.',
      tags: ['videos'],
      security: [{ bearerAuth: [] }],
      headers: headersSchema,
      body: generationRequestSchema,
      response: { 200: taskViewSchema, ...createErrorResponses },
    },
    preValidation: resolveModel,
    handler: (request) => {
      const key = request.headers['idempotency-key'];
      return tasks.create(callerOf(request), request.body as GenerationRequest, key ? idempotentRequest(key, request.body) : undefined);
    },
  });

  // Rate-limited like create (its own budget): it fetches and probes the media as create does.
  app.post('/videos/generations/estimate', {
    config: { rateLimit: {} },
    schema: {
      summary: 'What a create would reserve, without creating', operationId: 'estimateVideoGeneration',
      description: 'The same body as create, checked the same way (media fetched and probed); answers the credits create would reserve now and the time estimate. Nothing is stored or reserved.',
      tags: ['videos'],
      security: [{ bearerAuth: [] }],
      body: generationRequestSchema,
      response: { 200: estimateSchema, ...createErrorResponses },
    },
    preValidation: resolveModel,
    handler: (request) => tasks.estimate(callerOf(request), request.body as GenerationRequest),
  });
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CallbackService } from '../../callbacks/service.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

const deliverySchema = z
  .object({
    id: z.string().describe('The webhook-id header, the same on every attempt'),
    object: z.literal('callback.delivery'),
    url: z.string(),
    status: z.enum(['pending', 'sending', 'delivered', 'failed']),
    created: z.int(),
    next_attempt_at: z.int().nullable().describe('Unix seconds of the next retry, while pending'),
    delivered_at: z.int().nullable(),
    attempts: z.array(
      z.object({ attempt: z.int(), created: z.int(), duration_ms: z.int(), status_code: z.int().nullable(), error: z.string().nullable() }),
    ),
  })
  .meta({ id: 'CallbackDelivery' });

const taskIdParams = z.object({ task_id: z.string() });

export const callbacksRoutes: FastifyPluginAsyncZod<{ callbacks: CallbackService }> = async (app, { callbacks }) => {
  app.get('/tasks/:task_id/callbacks', {
    schema: {
      summary: "A task's callback deliveries and their attempts", operationId: 'listTaskCallbacks',
      tags: ['callbacks'],
      security: [{ bearerAuth: [] }],
      params: taskIdParams,
      response: { 200: z.object({ object: z.literal('list'), data: z.array(deliverySchema) }), ...errorResponses },
    },
    handler: async (request) => ({ object: 'list' as const, data: await callbacks.list(callerOf(request), request.params.task_id) }),
  });

  app.post('/tasks/:task_id/callbacks/resend', {
    schema: {
      summary: "Send an ended task's callback again", operationId: 'resendTaskCallback',
      description: 'Same webhook-id and body, from the start of the retry schedule. A delivery still under way is left as it is.',
      tags: ['callbacks'],
      security: [{ bearerAuth: [] }],
      params: taskIdParams,
      response: { 202: deliverySchema, ...errorResponses },
    },
    handler: async (request, reply) => reply.code(202).send(await callbacks.resend(callerOf(request), request.params.task_id)),
  });
};

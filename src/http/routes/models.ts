import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MODELS } from '../../contract/models/index.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

const modelListSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ id: z.string(), object: z.literal('model'), owned_by: z.string() })),
});

export const modelsRoutes: FastifyPluginAsyncZod<{ served: ReadonlySet<string> }> = async (app, { served }) => {
  app.get('/models', {
    schema: {
      summary: 'List the models this key may use', operationId: 'listModels',
      description: 'The models the key is allowed that some channel of this vidgate serves: creating a task for any of them can succeed.',
      tags: ['models'],
      security: [{ bearerAuth: [] }],
      response: { 200: modelListSchema, ...errorResponses },
    },
    handler: (request) => {
      const allowed = callerOf(request).allowedModels;
      const data = Object.values(MODELS)
        .filter((model) => served.has(model.id) && (!allowed || allowed.has(model.id)))
        .map((model) => ({ id: model.id, object: 'model' as const, owned_by: model.owned_by }));
      return { object: 'list' as const, data };
    },
  });
};

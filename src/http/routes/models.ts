import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BILLING_RULES, type PriceBook } from '../../billing/price-book.ts';
import { ApiError } from '../../contract/errors.ts';
import { MODEL_KINDS, type ModelSpec, requestJsonSchema } from '../../contract/model-spec.ts';
import { usableModels } from '../../contract/models/index.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

const modelEntrySchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  owned_by: z.string(),
  family: z.string().describe('wan, happyhorse, seedance, kling, …'),
  kind: z.enum(MODEL_KINDS).describe('t2v, i2v, r2v (references), edit, extend, multi-mode (picked from the inputs) or other'),
  billing_rule: z.enum(BILLING_RULES).describe('per_token is charged per output second: tokens are not known before the video exists'),
});

const modelListSchema = z.object({ object: z.literal('list'), data: z.array(modelEntrySchema) }).meta({ id: 'ModelList' });

const modelDetailSchema = modelEntrySchema
  .extend({
    input_schema: z.record(z.string(), z.unknown()).describe("JSON Schema of the model's create request"),
    prices: z.record(z.string(), z.number()).describe('Credits per billed second (per_second) or per task (per_call), by quality'),
  })
  .meta({ id: 'Model' });

type ModelsOptions = { served: ReadonlySet<string>; prices: PriceBook };

export const modelsRoutes: FastifyPluginAsyncZod<ModelsOptions> = async (app, { served, prices }) => {
  const usable = (allowed: ReadonlySet<string> | null) => usableModels(served, allowed);
  const entry = (model: ModelSpec) => ({
    id: model.id, object: 'model' as const, owned_by: model.owned_by, family: model.family, kind: model.kind, billing_rule: prices.entry(model.id)!.rule,
  });

  app.get('/models', {
    schema: {
      summary: 'List the models this key may use',
      operationId: 'listModels',
      description: 'The models the key is allowed that some channel of this vidgate serves: creating a task for any of them can succeed.',
      tags: ['models'],
      security: [{ bearerAuth: [] }],
      response: { 200: modelListSchema, ...errorResponses },
    },
    handler: (request) => ({ object: 'list' as const, data: usable(callerOf(request).allowedModels).map(entry) }),
  });

  app.get('/models/:model_id', {
    schema: {
      summary: 'One model: its request schema and prices',
      operationId: 'getModel',
      tags: ['models'],
      security: [{ bearerAuth: [] }],
      params: z.object({ model_id: z.string() }),
      response: { 200: modelDetailSchema, ...errorResponses },
    },
    handler: (request) => {
      const model = usable(callerOf(request).allowedModels).find((m) => m.id === request.params.model_id);
      if (!model) throw new ApiError('not_found', `model_id: "${request.params.model_id.slice(0, 80)}" is not a model this key may use here (GET /v1/models lists them)`, { param: 'model_id' });
      const { rule, ...byQuality } = prices.entry(model.id)!;
      return { ...entry(model), billing_rule: rule, input_schema: requestJsonSchema(model), prices: byQuality as Record<string, number> };
    },
  });
};

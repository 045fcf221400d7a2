import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createOwnKey, deleteOwnKey, listOwnKeys } from '../../auth/own-keys.ts';
import { MODEL_IDS } from '../../contract/models/index.ts';
import type { Store } from '../../store/db.ts';
import type { Clock } from '../../util/clock.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

const keySchema = z.object({
  id: z.string(), user: z.string(), name: z.string().nullable(), prefix: z.string(), credits: z.number().nullable(), unlimited: z.boolean(), models: z.array(z.string()).nullable(),
  rpm: z.number().nullable(), max_unfinished: z.number().nullable(), expires_at: z.number().nullable(), disabled: z.boolean(), created: z.number(), last_used: z.number().nullable(),
}).meta({ id: 'Key' });
const tags = ['keys'];
const security = [{ bearerAuth: [] }];

/** A user's own keys (CONTRACT §10.3): any key of the user lists, makes and disables the user's keys, within its own allowance and models. */
export const ownKeysRoutes: FastifyPluginAsyncZod<{ store: Store; clock: Clock }> = async (app, { store, clock }) => {
  app.get('/keys', {
    schema: {
      summary: 'Your user\'s keys', operationId: 'listKeys', tags, security,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), before: z.string().max(200).optional() }),
      response: { 200: z.object({ object: z.literal('list'), data: z.array(keySchema), has_more: z.boolean(), last_id: z.string().nullable() }), ...errorResponses },
    },
  }, (request) => listOwnKeys(store, callerOf(request), request.query));

  app.post('/keys', {
    schema: {
      summary: 'Make a key for your user (the secret is in this answer only)', operationId: 'createKey', tags, security,
      description: 'Its credits come out of this key\'s own allowance (or must fit the user\'s balance): making a key never adds credits. Its models are within this key\'s.',
      body: z.strictObject({
        name: z.string().max(100).optional(), credits: z.number().positive().optional(),
        models: z.array(z.enum(MODEL_IDS as [string, ...string[]], { error: 'must name models of GET /v1/models' })).min(1).max(200).optional(),
        rpm: z.int().min(0).max(1_000_000).optional(), expires_at: z.int().positive().optional(),
      }),
      response: { 200: keySchema.extend({ key: z.string() }), ...errorResponses },
    },
  }, (request) => createOwnKey(store, callerOf(request), request.body, clock.now()));

  app.delete('/keys/:id', {
    schema: {
      summary: 'Disable one of your user\'s keys (not the one calling)', operationId: 'deleteKey', tags, security, params: z.object({ id: z.string() }),
      response: { 200: z.object({ id: z.string(), disabled: z.literal(true) }), ...errorResponses },
    },
  }, (request) => deleteOwnKey(store, callerOf(request), request.params.id, clock.now()));
};

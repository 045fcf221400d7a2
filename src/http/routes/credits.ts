import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readCredits } from '../../billing/credits.ts';
import type { Db } from '../../store/db.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

const balance = { remaining_credits: z.number(), used_credits: z.number() };
const creditsSchema = z
  .object({
    success: z.literal(true),
    message: z.string(),
    data: z.object({ token: z.object({ ...balance, unlimited_credits: z.boolean() }), user: z.object(balance) }),
  })
  .meta({ id: 'Credits' });

export const creditsRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get('/credits', {
    schema: {
      summary: "The key's and the user's credits", operationId: 'getCredits',
      description: 'Remaining credits exclude what running tasks have reserved; used credits are what finished tasks were charged.',
      tags: ['account'],
      security: [{ bearerAuth: [] }],
      response: { 200: creditsSchema, ...errorResponses },
    },
    handler: async (request) => ({ success: true as const, message: '', data: await readCredits(db, callerOf(request)) }),
  });
};

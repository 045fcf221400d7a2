import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { UpstreamWebhooks } from '../../channels/webhooks.ts';
import { ApiError } from '../../contract/errors.ts';
import { errorResponses } from '../openapi.ts';

/** Webhooks from upstream services; no API key — each is checked by its signature. */
export const webhooksRoutes: FastifyPluginAsyncZod<{ webhooks: UpstreamWebhooks }> = async (app, { webhooks }) => {
  // The signature covers the exact bytes: keep the body raw.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/webhooks/fal/:channel', {
    schema: {
      summary: 'fal queue webhook (signed by fal)', operationId: 'receiveFalWebhook',
      tags: ['upstream'],
      hide: true,
      params: z.object({ channel: z.string() }),
      querystring: z.object({ key: z.string().max(64).optional() }),
      response: { 200: z.object({ ok: z.literal(true) }), ...errorResponses },
    },
    handler: async (request) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const outcome = await webhooks.receiveFal(request.params.channel, request.query.key, request.headers, raw);
      if (outcome === 'unknown_channel') throw new ApiError('not_found', 'channel: no fal channel of that name');
      if (outcome === 'bad_signature') throw new ApiError('unauthorized', 'the webhook signature could not be verified');
      return { ok: true as const };
    },
  });
};

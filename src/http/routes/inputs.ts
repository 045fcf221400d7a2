import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { InputUrls } from '../../channels/input-urls.ts';
import { ApiError } from '../../contract/errors.ts';
import type { Db } from '../../store/db.ts';
import type { ObjectStore } from '../../storage/index.ts';
import { type ObjectUrlMode, redirectToObject, sendObject } from '../../storage/serve.ts';
import type { Clock } from '../../util/clock.ts';
import { errorResponses } from '../openapi.ts';

const MIME: Record<string, string> = {
  jpeg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', webp: 'image/webp', mp4: 'video/mp4', mov: 'video/quicktime', wav: 'audio/wav', mp3: 'audio/mpeg',
};

const gone = () => new ApiError('not_found', 'this input does not exist or its link has expired');

export type InputsRouteOptions = { inputUrls: InputUrls; db: Db; clock: Clock; objects: ObjectStore; mode: ObjectUrlMode };

/**
 * A task's stored inputs at signed URLs, for upstreams with `input_delivery: signed_url` (CONTRACT
 * §8.3); no key, Range supported. Where results are handed out presigned, so are these (a 302 to
 * the storage); else vidgate streams the bytes.
 */
export const inputsRoutes: FastifyPluginAsyncZod<InputsRouteOptions> = async (app, { inputUrls, db, clock, objects, mode }) => {
  app.get('/inputs/:token', {
    schema: {
      summary: 'A task input at a signed URL', operationId: 'getTaskInput',
      description: 'Handed to upstreams instead of the client\'s URL: exactly the bytes vidgate fetched and probed, until the channel\'s timeout.',
      tags: ['upstream'],
      hide: true,
      params: z.object({ token: z.string().max(2048) }),
      response: { 200: z.any().describe('the input file'), 206: z.any(), 302: z.any(), 304: z.any(), 416: z.any(), ...errorResponses },
    },
    async handler(request, reply) {
      const ref = inputUrls.verify(request.params.token, clock.now());
      if (!ref) throw gone();
      const row = await db.selectFrom('task_inputs').select(['path', 'container']).where('task_id', '=', ref.taskId).where('field', '=', ref.field).executeTakeFirst();
      if (!row) throw gone();
      const contentType = MIME[row.container] ?? 'application/octet-stream';
      if (mode !== 'proxy') return redirectToObject(reply, objects, row.path, 3600, { contentType, missing: gone });
      reply.header('x-content-type-options', 'nosniff');
      return sendObject(request, reply, objects, row.path, { contentType, cacheControl: 'private, no-store', missing: gone });
    },
  });
};

import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { InputUrls } from '../../channels/input-urls.ts';
import { ApiError } from '../../contract/errors.ts';
import type { Db } from '../../store/db.ts';
import type { Clock } from '../../util/clock.ts';
import { errorResponses } from '../openapi.ts';

const MIME: Record<string, string> = {
  jpeg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', webp: 'image/webp', mp4: 'video/mp4', mov: 'video/quicktime', wav: 'audio/wav', mp3: 'audio/mpeg',
};

const gone = () => new ApiError('not_found', 'this input does not exist or its link has expired');

/** A task's stored inputs at signed URLs, for upstreams with `input_delivery: signed_url` (CONTRACT §8.3); no key, Range supported. */
export const inputsRoutes: FastifyPluginAsyncZod<{ inputUrls: InputUrls; db: Db; clock: Clock; inputsDir: string }> = async (app, { inputUrls, db, clock, inputsDir }) => {
  await app.register(fastifyStatic, { root: inputsDir, serve: false, acceptRanges: true, cacheControl: false });
  app.get('/inputs/:token', {
    schema: {
      summary: 'A task input at a signed URL', operationId: 'getTaskInput',
      description: 'Handed to upstreams instead of the client\'s URL: exactly the bytes vidgate fetched and probed, until the channel\'s timeout.',
      tags: ['upstream'],
      hide: true,
      params: z.object({ token: z.string().max(2048) }),
      response: { 200: z.any().describe('the input file'), ...errorResponses },
    },
    async handler(request, reply) {
      const ref = inputUrls.verify(request.params.token, clock.now());
      if (!ref) throw gone();
      const row = await db.selectFrom('task_inputs').select(['path', 'container']).where('task_id', '=', ref.taskId).where('field', '=', ref.field).executeTakeFirst();
      const relative = row && path.relative(inputsDir, row.path);
      if (!relative || relative.startsWith('..')) throw gone();
      reply.header('content-type', MIME[row.container] ?? 'application/octet-stream').header('x-content-type-options', 'nosniff').header('cache-control', 'private, no-store');
      return reply.sendFile(relative, inputsDir, { contentType: false });
    },
  });
};

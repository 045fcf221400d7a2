import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../contract/errors.ts';
import type { FileService } from '../../files/service.ts';
import { errorResponses } from '../openapi.ts';

const gone = () => new ApiError('not_found', 'this file does not exist or has expired');

/** Uploaded files, no key needed (the id is unguessable), so models and upstreams can fetch them; Range supported. */
export const fileDownloadsRoutes: FastifyPluginAsyncZod<{ files: FileService; dir: string }> = async (app, { files, dir }) => {
  await app.register(fastifyStatic, { root: dir, serve: false, acceptRanges: true, cacheControl: false });
  // Only sniffed media types are stored; browsers must not guess another.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });

  app.get('/files/:file_id/:name', {
    schema: {
      summary: 'An uploaded file', operationId: 'getFile', security: [], // no key: the URL holds an unguessable part
      description: 'The `file_url` of an upload; valid until its `expires_at`.',
      tags: ['files'],
      params: z.object({ file_id: z.string(), name: z.string() }),
      response: { 200: z.any().describe('the file'), ...errorResponses },
    },
    async handler(request, reply) {
      const row = await files.servable(request.params.file_id);
      if (!row || row.file_name !== request.params.name) throw gone();
      reply.header('cache-control', 'private, max-age=3600');
      return reply.sendFile(row.stored_name, dir);
    },
  });

  app.get('/api/v1/files/download/:file_id', {
    schema: {
      summary: 'Download an uploaded file', operationId: 'downloadFile', security: [], // no key: the URL holds an unguessable part
      description: 'The `download_url` of an upload: the file as an attachment.',
      tags: ['files'],
      params: z.object({ file_id: z.string() }),
      response: { 200: z.any().describe('the file'), ...errorResponses },
    },
    async handler(request, reply) {
      const row = await files.servable(request.params.file_id);
      if (!row) throw gone();
      reply.header('content-disposition', `attachment; filename="${row.file_name}"`);
      return reply.sendFile(row.stored_name, dir);
    },
  });
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FileService } from '../../files/service.ts';
import { errorResponses } from '../openapi.ts';

const answers = { 200: z.any().describe('the file'), 206: z.any().describe('part of the file'), 302: z.any().describe('to the storage'), 304: z.any(), 416: z.any(), ...errorResponses };

/** Uploaded files, no key needed (the id is unguessable), so models and upstreams can fetch them; Range supported. */
export const fileDownloadsRoutes: FastifyPluginAsyncZod<{ files: FileService }> = async (app, { files }) => {
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
      response: answers,
    },
    handler: (request, reply) => files.serve(request, reply, request.params.file_id, request.params.name),
  });

  app.get('/api/v1/files/download/:file_id', {
    schema: {
      summary: 'Download an uploaded file', operationId: 'downloadFile', security: [], // no key: the URL holds an unguessable part
      description: 'The `download_url` of an upload: the file as an attachment.',
      tags: ['files'],
      params: z.object({ file_id: z.string() }),
      response: answers,
    },
    handler: (request, reply) => files.serve(request, reply, request.params.file_id, null),
  });
};

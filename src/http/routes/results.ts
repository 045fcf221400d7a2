import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TaskService } from '../../tasks/service.ts';
import { errorResponses } from '../openapi.ts';

/** Finished videos, no key needed (the name is unguessable); Range requests let players seek. */
export const resultsRoutes: FastifyPluginAsyncZod<{ tasks: TaskService }> = async (app, { tasks }) => {
  app.get('/v1/results/:name', {
    schema: {
      summary: 'Download a result video', operationId: 'downloadResult', security: [], // no key: the URL holds an unguessable part
      description: 'The URL in a completed task\'s `results`; valid for the result TTL (default 24 h). Supports Range. With VIDGATE_RESULT_URLS=redirect (or presigned) it answers 302 to the storage.',
      tags: ['tasks'],
      params: z.object({ name: z.string() }),
      response: { 200: z.any().describe('video/mp4'), 206: z.any().describe('part of the video'), 302: z.any().describe('to the storage'), 304: z.any(), 416: z.any(), ...errorResponses },
    },
    handler: (request, reply) => tasks.serveResult(request, reply, request.params.name),
  });
};

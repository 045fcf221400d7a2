import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../contract/errors.ts';
import type { TaskService } from '../../tasks/service.ts';
import { errorResponses } from '../openapi.ts';

/** Finished videos, no key needed (the name is unguessable); Range requests let players seek. */
export const resultsRoutes: FastifyPluginAsyncZod<{ tasks: TaskService; dir: string }> = async (app, { tasks, dir }) => {
  await app.register(fastifyStatic, { root: dir, serve: false, acceptRanges: true, cacheControl: false });
  app.get('/v1/results/:name', {
    schema: {
      summary: 'Download a result video', operationId: 'downloadResult', security: [], // no key: the URL holds an unguessable part
      description: 'The URL in a completed task\'s `results`; valid for the result TTL (default 24 h). Supports Range.',
      tags: ['tasks'],
      params: z.object({ name: z.string() }),
      response: { 200: z.any().describe('video/mp4'), ...errorResponses },
    },
    async handler(request, reply) {
      const name = await tasks.servableResult(request.params.name);
      if (!name) throw new ApiError('not_found', 'this result does not exist or has expired');
      reply.header('cache-control', 'private, max-age=3600');
      return reply.sendFile(name);
    },
  });
};

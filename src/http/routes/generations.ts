import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { generationRequestSchema } from '../../contract/models/index.ts';
import { taskViewSchema } from '../../contract/task-view.ts';
import type { TaskService } from '../../tasks/service.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

export const generationsRoutes: FastifyPluginAsyncZod<{ tasks: TaskService }> = async (app, { tasks }) => {
  app.post('/videos/generations', {
    schema: {
      summary: 'Create a video generation task',
      description: 'The `model` field selects the schema. Media URLs are fetched and checked before the task is accepted.',
      tags: ['videos'],
      security: [{ bearerAuth: [] }],
      body: generationRequestSchema,
      response: { 200: taskViewSchema, ...errorResponses },
    },
    handler: (request) => tasks.create(callerOf(request), request.body),
  });
};

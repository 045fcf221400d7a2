import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { taskViewSchema } from '../../contract/task-view.ts';
import type { TaskService } from '../../tasks/service.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

export const tasksRoutes: FastifyPluginAsyncZod<{ tasks: TaskService }> = async (app, { tasks }) => {
  app.get('/tasks/:task_id', {
    schema: {
      summary: 'Get a task',
      description: "Only the owner's tasks are visible; any other id answers 404.",
      tags: ['tasks'],
      security: [{ bearerAuth: [] }],
      params: z.object({ task_id: z.string() }),
      response: { 200: taskViewSchema, ...errorResponses },
    },
    handler: (request) => tasks.get(callerOf(request), request.params.task_id),
  });
};

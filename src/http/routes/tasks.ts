import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { taskViewSchema } from '../../contract/task-view.ts';
import type { TaskService } from '../../tasks/service.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

const taskIdParams = z.object({ task_id: z.string() });

const cancelledSchema = z
  .object({ id: z.string(), object: z.literal('task.cancelled'), status: z.literal('cancelled'), message: z.string() })
  .meta({ id: 'TaskCancelled' });

export const tasksRoutes: FastifyPluginAsyncZod<{ tasks: TaskService }> = async (app, { tasks }) => {
  app.get('/tasks/:task_id', {
    schema: {
      summary: 'Get a task',
      description: "Only the owner's tasks are visible; any other id answers 404. Polling is free.",
      tags: ['tasks'],
      security: [{ bearerAuth: [] }],
      params: taskIdParams,
      response: { 200: taskViewSchema, ...errorResponses },
    },
    handler: (request) => tasks.get(callerOf(request), request.params.task_id),
  });

  app.delete('/tasks/:task_id', {
    schema: {
      summary: 'Cancel a task',
      description: 'While `can_cancel`: the task ends `cancelled`, its render stops, its reservation is released and its callback sent. Otherwise 400.',
      tags: ['tasks'],
      security: [{ bearerAuth: [] }],
      params: taskIdParams,
      response: { 200: cancelledSchema, ...errorResponses },
    },
    handler: (request) => tasks.cancel(callerOf(request), request.params.task_id),
  });
};

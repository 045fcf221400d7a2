import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TASK_STATUSES, taskViewSchema } from '../../contract/task-view.ts';
import type { TaskService } from '../../tasks/service.ts';
import type { TaskEvents } from '../../tasks/events.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';

const taskIdParams = z.object({ task_id: z.string() });

const cancelledSchema = z
  .object({ id: z.string(), object: z.literal('task.cancelled'), status: z.literal('cancelled'), message: z.string() })
  .meta({ id: 'TaskCancelled' });

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Tasks per page, 1–100'),
  before: z.string().optional().describe('The last_id of the previous page'),
  status: z.enum(TASK_STATUSES).optional().describe('Only tasks in this status'),
});

const taskListSchema = z
  .object({ object: z.literal('list'), data: z.array(taskViewSchema), has_more: z.boolean(), last_id: z.string().nullable() })
  .meta({ id: 'TaskList' });

const eventStream = z.string().meta({ contentMediaType: 'text/event-stream' }).describe('Server-Sent Events: `event: task` with the task object (Task) as `data` and a growing `id`; a comment line every 15 s');
const lastEventId = z.object({ 'last-event-id': z.string().regex(/^\d{1,16}$/, 'must be the id of an event this stream sent').optional() });

export const tasksRoutes: FastifyPluginAsyncZod<{ tasks: TaskService; events: TaskEvents }> = async (app, { tasks, events }) => {
  app.get('/tasks/events', {
    schema: {
      summary: "Follow all the caller's tasks (Server-Sent Events)", operationId: 'streamTasks',
      description: 'Every change of status or progress of any task of the caller\'s user, as it happens (`data.id` tells them apart); stays open. `Last-Event-ID` resumes without repeats.',
      tags: ['tasks'], security: [{ bearerAuth: [] }], headers: lastEventId,
      response: { 200: eventStream, ...errorResponses },
    },
    handler: async (request, reply) => {
      const since = request.headers['last-event-id'];
      await events.open(reply, { userId: callerOf(request).userId, task: null, lastEventId: since ? Number(since) : null });
    },
  });

  app.get('/tasks/:task_id/events', {
    schema: {
      summary: 'Follow a task (Server-Sent Events)', operationId: 'streamTask',
      description: 'The task\'s current state, then each change of status or progress, as `event: task` with the task object; ends after a terminal state. `Last-Event-ID` resumes without repeats. Owner only (any other id answers 404).',
      tags: ['tasks'], security: [{ bearerAuth: [] }], params: taskIdParams, headers: lastEventId,
      response: { 200: eventStream, ...errorResponses },
    },
    handler: async (request, reply) => {
      const caller = callerOf(request);
      const task = await tasks.ownTask(caller, request.params.task_id);
      const since = request.headers['last-event-id'];
      await events.open(reply, { userId: caller.userId, task, lastEventId: since ? Number(since) : null });
    },
  });

  app.get('/tasks', {
    schema: {
      summary: "List the caller's tasks", operationId: 'listTasks',
      description: 'Newest first; beyond the hosted service. Page on with `before` = the previous page\'s `last_id` while `has_more`.',
      tags: ['tasks'],
      security: [{ bearerAuth: [] }],
      querystring: listQuery,
      response: { 200: taskListSchema, ...errorResponses },
    },
    handler: (request) => tasks.list(callerOf(request), request.query),
  });

  app.get('/tasks/:task_id', {
    schema: {
      summary: 'Get a task', operationId: 'getTask',
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
      summary: 'Cancel a task', operationId: 'cancelTask',
      description: 'While `can_cancel`: the task ends `cancelled`, its render stops, its reservation is released and its callback sent. Otherwise 400.',
      tags: ['tasks'],
      security: [{ bearerAuth: [] }],
      params: taskIdParams,
      response: { 200: cancelledSchema, ...errorResponses },
    },
    handler: (request) => tasks.cancel(callerOf(request), request.params.task_id),
  });
};

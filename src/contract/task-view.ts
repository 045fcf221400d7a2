import { z } from 'zod';
import { microToCredits } from '../billing/money.ts';
import type { TaskErrorCode } from './errors.ts';

export const TASK_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** The fields of a stored task that the public task object shows. */
export type TaskViewSource = {
  id: string;
  model: string;
  status: TaskStatus;
  progress: number;
  created_at: number;
  estimated_time: number;
  video_duration: number;
  billing_rule: string;
  credits_reserved_micro: number;
  credits_charged_micro: number | null;
  user_group: string;
  error_code: TaskErrorCode | null;
  error_message: string | null;
  result_url: string | null;
  /** False once the upstream cannot stop the job any more. */
  can_cancel: boolean;
};

/** The task object of CONTRACT §3, shared by create, get and callbacks. */
export const taskViewSchema = z
  .object({
    id: z.string().meta({ example: 'task-unified-1761313744-h1edgh12' }),
    object: z.literal('video.generation.task'),
    created: z.int().describe('Unix seconds'),
    model: z.string(),
    status: z.enum(TASK_STATUSES),
    progress: z.int().min(0).max(100),
    type: z.literal('video'),
    task_info: z.object({
      can_cancel: z.boolean(),
      estimated_time: z.int().describe('Seconds until done'),
      video_duration: z.int().describe('Output seconds'),
    }),
    usage: z.object({
      billing_rule: z.string(),
      credits_reserved: z.number(),
      user_group: z.string(),
      credits_charged: z.number().optional().describe('Terminal tasks only'),
    }),
    results: z.array(z.string()).optional().describe('Completed tasks: the URL of the MP4'),
    error: z
      .object({ code: z.string(), message: z.string(), type: z.literal('task_error') })
      .optional()
      .describe('Failed tasks, and cancelled ones (code request_cancelled)'),
  })
  .meta({ id: 'Task' });

export type TaskView = z.infer<typeof taskViewSchema>;

/** The statuses a task ends in; it never leaves them. */
export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;
const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

export function isTerminal(status: TaskStatus | string): boolean {
  return TERMINAL.has(status);
}

export function toTaskView(task: TaskViewSource): TaskView {
  const view: TaskView = {
    id: task.id,
    object: 'video.generation.task',
    created: Math.floor(task.created_at / 1000),
    model: task.model,
    status: task.status,
    progress: task.progress,
    type: 'video',
    task_info: { can_cancel: !isTerminal(task.status) && task.can_cancel, estimated_time: task.estimated_time, video_duration: task.video_duration },
    usage: { billing_rule: task.billing_rule, credits_reserved: microToCredits(task.credits_reserved_micro), user_group: task.user_group },
  };
  if (isTerminal(task.status)) view.usage.credits_charged = microToCredits(task.credits_charged_micro ?? 0);
  if (task.status === 'completed' && task.result_url) view.results = [task.result_url];
  if (task.status === 'failed' || task.status === 'cancelled') {
    view.error = { code: task.error_code ?? 'unknown_error', message: task.error_message ?? 'The task failed.', type: 'task_error' };
  }
  return view;
}

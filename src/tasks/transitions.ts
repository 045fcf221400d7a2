import type { Kysely } from 'kysely';
import type { TaskErrorCode } from '../contract/errors.ts';
import type { Database } from '../store/schema.ts';

type Q = Kysely<Database>;

/**
 * Every change of a task's state, one guarded UPDATE each: the WHERE names the state it leaves,
 * so two workers can't both finish or fail a task. Each says whether it changed the row.
 */

/** pending → processing, when a worker starts on it. */
export async function markProcessing(q: Q, taskId: string, now: number): Promise<boolean> {
  const result = await q
    .updateTable('tasks')
    .set({ status: 'processing', started_at: now, updated_at: now })
    .where('id', '=', taskId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Raises progress (never lowers it) while processing; 100 is left for completion. */
export async function raiseProgress(q: Q, taskId: string, progress: number, now: number): Promise<boolean> {
  const value = Math.min(99, Math.max(0, Math.floor(progress)));
  const result = await q
    .updateTable('tasks')
    .set({ progress: value, updated_at: now })
    .where('id', '=', taskId)
    .where('status', '=', 'processing')
    .where('progress', '<', value)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** processing → completed with its result file (relative to the data dir). */
export async function markCompleted(q: Q, taskId: string, resultPath: string, now: number): Promise<boolean> {
  const result = await q
    .updateTable('tasks')
    .set({ status: 'completed', progress: 100, result_path: resultPath, finished_at: now, updated_at: now })
    .where('id', '=', taskId)
    .where('status', '=', 'processing')
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** pending or processing → failed, with the task error code and a message for the client. */
export async function markFailed(q: Q, taskId: string, code: TaskErrorCode, message: string, now: number): Promise<boolean> {
  const result = await q
    .updateTable('tasks')
    .set({ status: 'failed', error_code: code, error_message: message, finished_at: now, updated_at: now })
    .where('id', '=', taskId)
    .where('status', 'in', ['pending', 'processing'])
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

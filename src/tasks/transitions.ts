import type { Kysely, Selectable } from 'kysely';
import type { TaskErrorCode } from '../contract/errors.ts';
import type { Database, TasksTable } from '../store/schema.ts';

type Q = Kysely<Database>;
type Row = Selectable<TasksTable>;

/**
 * Every change of a task's state, one guarded UPDATE each: the WHERE names the state it leaves,
 * so two workers can't both finish or fail a task. Each says whether it changed the row; the
 * terminal ones return the row they ended (or undefined), so settlement can follow in the same
 * transaction (tasks/settlement.ts is their only caller).
 */

/** pending → processing, when a worker starts on it: progress 1, so a running task never shows 0. */
export async function markProcessing(q: Q, taskId: string, now: number): Promise<boolean> {
  const result = await q
    .updateTable('tasks')
    .set({ status: 'processing', progress: 1, started_at: now, updated_at: now })
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

/** processing → completed with its result file (relative to the data dir) and its charge. */
export async function markCompleted(q: Q, taskId: string, result: { path: string; url: string | null }, chargedMicro: number, now: number): Promise<Row | undefined> {
  return q
    .updateTable('tasks')
    .set({ status: 'completed', progress: 100, result_path: result.path, result_url: result.url, credits_charged_micro: chargedMicro, finished_at: now, updated_at: now })
    .where('id', '=', taskId)
    .where('status', '=', 'processing')
    .returningAll()
    .executeTakeFirst();
}

/** pending or processing → failed, with the task error code and a message for the client; nothing charged. */
export async function markFailed(q: Q, taskId: string, code: TaskErrorCode, message: string, now: number): Promise<Row | undefined> {
  return q
    .updateTable('tasks')
    .set({ status: 'failed', error_code: code, error_message: message, credits_charged_micro: 0, finished_at: now, updated_at: now })
    .where('id', '=', taskId)
    .where('status', 'in', ['pending', 'processing'])
    .returningAll()
    .executeTakeFirst();
}

/** The upstream runs the job and cannot stop it: from now on the task runs to its end and is charged (CONTRACT §8.7). */
export async function markUncancellable(q: Q, taskId: string, now: number): Promise<boolean> {
  const result = await q.updateTable('tasks').set({ can_cancel: 0, updated_at: now }).where('id', '=', taskId).where('status', '=', 'processing').where('can_cancel', '=', 1).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** pending or processing → cancelled, at the owner's request, while it can still be stopped; nothing charged. */
export async function markCancelled(q: Q, taskId: string, now: number): Promise<Row | undefined> {
  return q
    .updateTable('tasks')
    .set({
      status: 'cancelled', error_code: 'request_cancelled', error_message: 'The task was cancelled at the owner\'s request.',
      credits_charged_micro: 0, finished_at: now, updated_at: now,
    })
    .where('id', '=', taskId)
    .where('status', 'in', ['pending', 'processing'])
    .where('can_cancel', '=', 1)
    .returningAll()
    .executeTakeFirst();
}

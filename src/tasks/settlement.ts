import type { Kysely } from 'kysely';
import { settleCredits } from '../billing/ledger.ts';
import { chargeFor } from '../billing/price-book.ts';
import { addSettledTask } from '../billing/usage.ts';
import { enqueueCallback } from '../callbacks/outbox.ts';
import type { TaskErrorCode } from '../contract/errors.ts';
import { toTaskView } from '../contract/task-view.ts';
import type { ResultFiles } from '../media/results.ts';
import { cancelJob } from '../queue/jobs.ts';
import type { Database } from '../store/schema.ts';
import { type TaskRow, viewSource } from './task-store.ts';
import { markCancelled, markCompleted, markFailed } from './transitions.ts';

type Q = Kysely<Database>;

/**
 * The only way a task ends: the guarded transition, the ledger's settlement, the usage count and the callback,
 * all in the caller's transaction, so a task is never finished without being settled (or twice).
 * Each returns the ended row, or undefined when the task had already ended.
 */
export class TaskSettlement {
  private readonly results: ResultFiles;
  private readonly onEnded?: (row: TaskRow) => void;

  /** `onEnded` hears of every task this process ends (for metrics). */
  constructor(results: ResultFiles, onEnded?: (row: TaskRow) => void) {
    this.results = results;
    this.onEnded = onEnded;
  }

  /** Completed with its result (its stored path, and its presigned URL when results are presigned); charges the seconds the engine billed, releases the rest. */
  async complete(q: Q, task: TaskRow, result: { path: string; url?: string | null; billedSeconds: number }, now: number): Promise<TaskRow | undefined> {
    const { billedSeconds } = result;
    const row = await markCompleted(q, task.id, { path: result.path, url: result.url ?? null }, chargeFor(task, billedSeconds), now);
    return row && this.settle(q, row, now, Math.min(Math.max(0, billedSeconds), row.billed_seconds));
  }

  /** Failed for good; the whole reservation goes back. */
  async fail(q: Q, taskId: string, code: TaskErrorCode, message: string, now: number): Promise<TaskRow | undefined> {
    const row = await markFailed(q, taskId, code, message, now);
    return row && this.settle(q, row, now);
  }

  /** Cancelled by its owner: its job stops (a running render loses its lease) and the reservation goes back. */
  async cancel(q: Q, taskId: string, now: number): Promise<TaskRow | undefined> {
    const row = await markCancelled(q, taskId, now);
    if (!row) return undefined;
    await cancelJob(q, taskId, now);
    return this.settle(q, row, now);
  }

  private async settle(q: Q, row: TaskRow, now: number, billedSeconds = 0): Promise<TaskRow> {
    const charged = Number(row.credits_charged_micro ?? 0);
    await settleCredits(q, row, charged, now);
    await addSettledTask(q, row, { status: row.status, finished_at: now, charged, reserved: Number(row.credits_reserved_micro), billedSeconds });
    if (row.callback_url) {
      const body = JSON.stringify(toTaskView(viewSource(row, this.results, now)));
      await enqueueCallback(q, { taskId: row.id, userId: row.user_id, url: row.callback_url, body, now });
    }
    this.onEnded?.(row);
    return row;
  }
}

import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Store } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';
import { inputFolder } from './ingest.ts';
import type { ResultFiles } from './results.ts';

export type SweeperDeps = {
  store: Store;
  clock: Clock;
  results: ResultFiles;
  inputsDir: string;
  resultTtlMs: number;
  intervalMs: number;
  logger: Logger;
};

const BATCH = 200;

/** Deletes the result and inputs of tasks finished longer ago than the result TTL, and expired Idempotency-Keys. */
export class Sweeper {
  private readonly deps: SweeperDeps;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(deps: SweeperDeps) {
    this.deps = deps;
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.deps.intervalMs);
    this.timer.unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many tasks it swept. Never runs twice at once. */
  sweep(): Promise<number> {
    this.running ??= this.sweepExpired()
      .catch((err) => {
        this.deps.logger.error({ err }, 'sweeping expired files failed');
        return 0;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private async sweepExpired(): Promise<number> {
    const { store, clock, results, inputsDir, resultTtlMs } = this.deps;
    await store.write((trx) => trx.deleteFrom('idempotency_keys').where('expires_at', '<=', clock.now()).execute());
    let swept = 0;
    for (;;) {
      const now = clock.now();
      const due = await store.db
        .selectFrom('tasks')
        .select(['id', 'result_path'])
        .where('finished_at', 'is not', null)
        .where('swept_at', 'is', null)
        .where('finished_at', '<=', now - resultTtlMs)
        .limit(BATCH)
        .execute();
      for (const task of due) {
        // Claim the task first, so of several sweepers only one deletes its files.
        const claimed = await store.write((trx) =>
          trx.updateTable('tasks').set({ swept_at: now }).where('id', '=', task.id).where('swept_at', 'is', null).executeTakeFirst(),
        );
        if (claimed.numUpdatedRows !== 1n) continue;
        if (task.result_path) await results.remove(task.result_path);
        await rm(inputFolder(inputsDir, task.id), { recursive: true, force: true });
        swept++;
      }
      if (due.length < BATCH) return swept;
    }
  }
}

import path from 'node:path';
import type { Logger } from 'pino';
import { STORED_FILE_NAME, type UploadedFiles } from '../files/storage.ts';
import type { Store } from '../store/db.ts';
import type { ObjectStore } from '../storage/index.ts';
import type { Clock } from '../util/clock.ts';
import { inputsPrefix } from './ingest.ts';
import { ResultFiles } from './results.ts';

export type SweeperDeps = {
  store: Store;
  clock: Clock;
  results: ResultFiles;
  uploads: UploadedFiles;
  /** Where the tasks' inputs are (objects under inputs/<task id>/). */
  objects: ObjectStore;
  resultTtlMs: number;
  /** A result or input no task names, older than this, is left from a process that died before its commit. */
  orphanAgeMs: number;
  intervalMs: number;
  logger: Logger;
};

const BATCH = 200;
// An upload in progress rewrites its partial file constantly; one untouched this long was abandoned.
const UPLOAD_ORPHAN_AGE_MS = 60 * 60_000;

/**
 * Deletes the result and inputs of tasks finished longer ago than the result TTL, expired
 * Idempotency-Keys, results no task names (published by a worker that died before it could
 * commit; the task was then completed by another), inputs of tasks that were never recorded (a
 * create that died after storing them), expired uploads, and uploads no row names (a crash
 * between storing and recording one). All of it in the object storage (CONTRACT §12).
 */
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

  /** One pass; returns how many tasks and orphan files it swept. Never runs twice at once. */
  sweep(): Promise<number> {
    this.running ??= Promise.all([this.sweepExpired(), this.sweepOrphans(), this.sweepOrphanInputs(), this.sweepExpiredUploads(), this.sweepOrphanUploads()])
      .then((counts) => counts.reduce((a, b) => a + b, 0))
      .catch((err) => {
        this.deps.logger.error({ err }, 'sweeping expired files failed');
        return 0;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private async sweepExpired(): Promise<number> {
    const { store, clock, results, objects, resultTtlMs } = this.deps;
    await store.write((trx) => trx.deleteFrom('idempotency_keys').where('expires_at', '<=', clock.now()).execute());
    return this.sweepDue('tasks', {
      due: (now) =>
        store.db.selectFrom('tasks').select(['id', 'result_path']).where('finished_at', 'is not', null).where('swept_at', 'is', null)
          .where('finished_at', '<=', now - resultTtlMs).limit(BATCH).execute(),
      async remove(task) {
        if (task.result_path) await results.remove(task.result_path);
        await objects.deletePrefix(inputsPrefix(task.id));
      },
    });
  }

  /**
   * Sweeps due rows of `table` a batch at a time. Each row is claimed (swept_at set) before its
   * files go, so of several sweepers only one deletes them.
   */
  private async sweepDue<Row extends { id: string }>(
    table: 'tasks' | 'files',
    { due, remove }: { due: (now: number) => Promise<Row[]>; remove: (row: Row) => Promise<void> },
  ): Promise<number> {
    const { store, clock } = this.deps;
    let swept = 0;
    for (;;) {
      const now = clock.now();
      const rows = await due(now);
      for (const row of rows) {
        const claimed = await store.write((trx) =>
          trx.updateTable(table).set({ swept_at: now }).where('id', '=', row.id).where('swept_at', 'is', null).executeTakeFirst(),
        );
        if (claimed.numUpdatedRows !== 1n) continue;
        await remove(row);
        swept++;
      }
      if (rows.length < BATCH) return swept;
    }
  }

  private async sweepOrphans(): Promise<number> {
    const { store, results, orphanAgeMs } = this.deps;
    const before = Date.now() - orphanAgeMs; // file times are wall-clock, whatever clock the store uses
    let removed = 0;
    for await (const objects of results.fileNames(BATCH)) {
      const ids = [...new Set(objects.map(({ name }) => ResultFiles.taskIdOf(name)).filter((id) => id !== null))];
      const named = ids.length ? await store.db.selectFrom('tasks').select('result_path').where('id', 'in', ids).execute() : [];
      const kept = new Set(named.map((task) => task.result_path && path.basename(task.result_path)));
      for (const { name, modified } of objects) if (!kept.has(name) && (await results.removeIfOlder(name, modified, before))) removed++;
    }
    return removed;
  }

  private async sweepOrphanInputs(): Promise<number> {
    const { store, objects, orphanAgeMs } = this.deps;
    const before = Date.now() - orphanAgeMs;
    let removed = 0;
    for await (const batch of objects.list('inputs/', BATCH)) {
      const taskOf = (key: string) => key.split('/')[1];
      const ids = [...new Set(batch.map((object) => taskOf(object.key)))];
      const known = new Set((await store.db.selectFrom('tasks').select('id').where('id', 'in', ids).execute()).map((task) => task.id));
      for (const object of batch) {
        if (known.has(taskOf(object.key)) || object.modified >= before) continue;
        await objects.delete(object.key);
        removed++;
      }
    }
    return removed;
  }

  private async sweepExpiredUploads(): Promise<number> {
    const { store, uploads } = this.deps;
    return this.sweepDue('files', {
      due: (now) => store.db.selectFrom('files').select(['id', 'stored_name']).where('swept_at', 'is', null).where('expires_at', '<=', now).limit(BATCH).execute(),
      remove: (file) => uploads.remove(file.stored_name),
    });
  }

  private async sweepOrphanUploads(): Promise<number> {
    const { store, uploads } = this.deps;
    const before = Date.now() - UPLOAD_ORPHAN_AGE_MS;
    let removed = 0;
    for await (const objects of uploads.fileNames(BATCH)) {
      const ids = objects.map(({ name }) => STORED_FILE_NAME.exec(name)?.[1]).filter((id) => id !== undefined);
      const known = ids.length ? await store.db.selectFrom('files').select('stored_name').where('id', 'in', ids).execute() : [];
      const kept = new Set(known.map((file) => file.stored_name));
      for (const { name, modified } of objects) if (!kept.has(name) && (await uploads.removeIfOlder(name, modified, before))) removed++;
    }
    return removed + (await uploads.removeAbandoned(before));
  }
}

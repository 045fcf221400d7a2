import { CompiledQuery, type Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './schema.ts';

export type WriteWork<T> = (trx: Transaction<Database>) => Promise<T>;

type Pending = { work: WriteWork<unknown>; resolve(value: unknown): void; reject(error: unknown): void };

/**
 * Write transactions for SQLite, where each commit is a WAL write: work queued in the same
 * turn of the event loop shares one commit. Each piece runs in its own savepoint, so a failing
 * one is rolled back alone, and none resolves before the commit holding it succeeded.
 */
export class GroupCommitter {
  private readonly db: Db;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(db: Db) {
    this.db = db;
  }

  run<T>(work: WriteWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushing) this.flushing = new Promise((done) => setImmediate(() => void this.flush().finally(done)));
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const settled: (() => void)[] = [];
      try {
        await this.db.transaction().execute(async (trx) => {
          for (const item of batch) settled.push(await runInSavepoint(trx, item));
        });
        for (const settle of settled) settle();
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.flushing = null;
  }
}

const SAVEPOINT = CompiledQuery.raw('savepoint work');
const RELEASE = CompiledQuery.raw('release savepoint work');
const ROLLBACK = CompiledQuery.raw('rollback to savepoint work');

/** Runs one piece of work; returns how to settle its promise once the commit is known. */
async function runInSavepoint(trx: Transaction<Database>, item: Pending): Promise<() => void> {
  await trx.executeQuery(SAVEPOINT);
  try {
    const value = await item.work(trx);
    await trx.executeQuery(RELEASE);
    return () => item.resolve(value);
  } catch (error) {
    await trx.executeQuery(ROLLBACK);
    await trx.executeQuery(RELEASE);
    return () => item.reject(error);
  }
}

import type { CompiledQuery, Insertable, Kysely } from 'kysely';
import { type KeyFunds, refusal, type Reservation, reservationShortfall } from '../billing/ledger.ts';
import { newJobRow } from '../queue/jobs.ts';
import { isPostgres } from '../store/dialect.ts';
import { chainedWrites, compiledInsert, compiledStatement } from '../store/precompiled.ts';
import type { Store } from '../store/db.ts';
import type { Database, LedgerEntriesTable, TaskInputsTable, TasksTable } from '../store/schema.ts';

/** A task to store, its inputs, and the credits to reserve for it. */
export type NewTask = { task: Insertable<TasksTable>; inputs: Insertable<TaskInputsTable>[]; reservation: Reservation };

type Pending = { item: NewTask; resolve(): void; reject(error: unknown): void };
type Shortfall = NonNullable<ReturnType<typeof reservationShortfall>>;
type Verdict = { shortfall: Shortfall; key: KeyFunds; balance: number } | null;

/** PostgreSQL allows 65,535 parameters a statement; a task row has ~35. */
const MAX_BATCH = 100;

/**
 * New tasks stored with their credits reserved, many per transaction: creates that arrive
 * together share one commit (one fsync) and a fixed number of statements however many they are
 * — on PostgreSQL six round trips: begin, the tasks and jobs, lock the keys, lock the users, the
 * ledger and balances, commit.
 * Rows are locked keys first, then users, each in id order: the order every ledger write takes
 * one key then its user in, so batches never deadlock with them or with each other. Each
 * reservation is checked against the locked rows as the single-task UPDATEs would check it; a
 * refused one (402/429) fails alone and writes nothing, the others commit.
 */
export class TaskCreates {
  private readonly store: Store;
  private readonly maxAttempts: number;
  private queue: Pending[] = [];
  private flushing = false;

  constructor(store: Store, maxAttempts: number) {
    this.store = store;
    this.maxAttempts = maxAttempts;
  }

  /** Resolves once the task is committed; rejects with the refusal or the store's error. */
  add(item: NewTask): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.commit(batch);
      } catch (error) {
        // A batch that failed as a whole (a lost connection, a deadlock with another writer): each task on its own, so one cannot fail the rest.
        if (batch.length === 1) batch[0].reject(error);
        else for (const one of batch) await this.commit([one]).catch(one.reject);
      }
    }
    this.flushing = false;
  }

  private async commit(batch: Pending[]): Promise<void> {
    const items = batch.map((p) => p.item);
    const verdicts = await this.store.write((trx) => writeBatch(trx, items, this.maxAttempts));
    await Promise.all(batch.map(async (pending, i) => {
      const verdict = verdicts[i];
      if (!verdict) return pending.resolve();
      pending.reject(await refusal(this.store.db, pending.item.reservation, verdict.shortfall, verdict.key, verdict.balance).catch((error: unknown) => error));
    }));
  }
}

/**
 * Writes one batch inside `q`'s transaction; returns each task's refusal or null. The tasks and
 * jobs go in before the funds are locked (their foreign keys' KEY SHARE locks do not wait on a
 * NO KEY UPDATE lock), so a batch holds the hot rows only for the ledger and the balances; a
 * refused task's rows are deleted before the commit, so no one ever sees them.
 */
async function writeBatch(q: Kysely<Database>, items: NewTask[], maxAttempts: number): Promise<Verdict[]> {
  const inputs = items.flatMap((i) => i.inputs);
  await writeAll(q, [
    insertRows(q, 'tasks', items.map((i) => i.task)),
    ...(inputs.length > 0 ? [insertRows(q, 'task_inputs', inputs)] : []),
    insertRows(q, 'jobs', items.map((i) => newJobRow(i.task.id, i.task.model, maxAttempts, i.task.created_at))),
  ]);
  const { keys, balances } = await lockFunds(q, items.map((i) => i.reservation));
  const ledger: Insertable<LedgerEntriesTable>[] = [];
  const keyChanges = new Map<string, { spent: number; count: number; now: number }>();
  const userChanges = new Map<string, number>();
  const verdicts = items.map((item): Verdict => {
    const r = item.reservation;
    const key = keys.get(r.key_id)!;
    const balance = balances.get(r.user_id)!;
    const shortfall = reservationShortfall(r, key, balance);
    if (shortfall) return { shortfall, key: { ...key }, balance };
    const amount = r.credits_reserved_micro;
    key.spent_micro += amount;
    key.unfinished += 1;
    balances.set(r.user_id, balance - amount);
    const change = keyChanges.get(r.key_id) ?? { spent: 0, count: 0, now: 0 };
    keyChanges.set(r.key_id, { spent: change.spent + amount, count: change.count + 1, now: Math.max(change.now, r.now) });
    userChanges.set(r.user_id, (userChanges.get(r.user_id) ?? 0) + amount);
    ledger.push({ user_id: r.user_id, key_id: r.key_id, task_id: r.id, kind: 'reserve', amount_micro: amount, created_at: r.now, balance_after_micro: balance - amount, note: null });
    return null;
  });
  const refused = items.filter((_, i) => verdicts[i]).map((i) => i.task.id);
  if (refused.length > 0) { // the rows that point at a task first
    if (inputs.length > 0) await q.deleteFrom('task_inputs').where('task_id', 'in', refused).execute();
    await q.deleteFrom('jobs').where('task_id', 'in', refused).execute();
    await q.deleteFrom('tasks').where('id', 'in', refused).execute();
  }
  if (ledger.length === 0) return verdicts;
  await writeAll(q, [
    insertRows(q, 'ledger_entries', ledger),
    ...[...keyChanges].map(([id, c]) => compiledStatement(q, 'reserve-batch-key', (b) => b.updateTable('api_keys')
      .set((eb) => ({ spent_micro: eb('spent_micro', '+', 0), unfinished: eb('unfinished', '+', 0), last_used_at: 0 }))
      .where('id', '=', ''), [c.spent, c.count, c.now, id])),
    ...[...userChanges].map(([id, amount]) => compiledStatement(q, 'reserve-batch-user', (b) => b.updateTable('users')
      .set((eb) => ({ balance_micro: eb('balance_micro', '-', 0) })).where('id', '=', ''), [amount, id])),
  ]);
  return verdicts;
}

/** Many rows into `table`: a statement compiled once per shape (`compiledInsert`), else the builder's. */
function insertRows<T extends 'tasks' | 'task_inputs' | 'jobs' | 'ledger_entries'>(q: Kysely<Database>, table: T, rows: Insertable<Database[T]>[]): CompiledQuery {
  return compiledInsert(q, table, rows) ?? q.insertInto(table).values(rows as never).compile();
}

/** Runs writes that touch different rows: on PostgreSQL as one statement, each a data-modifying CTE (one round trip). */
async function writeAll(q: Kysely<Database>, writes: CompiledQuery[]): Promise<void> {
  if (isPostgres(q)) await q.executeQuery(chainedWrites(writes));
  else for (const write of writes) await q.executeQuery(write);
}

/** The keys' and users' funds, their rows locked as an UPDATE locks them (PostgreSQL; SQLite has one writer), keys first, each in id order. */
async function lockFunds(q: Kysely<Database>, reservations: Reservation[]) {
  const locked = isPostgres(q);
  const keyIds = [...new Set(reservations.map((r) => r.key_id))].sort();
  const userIds = [...new Set(reservations.map((r) => r.user_id))].sort();
  const keyQuery = q.selectFrom('api_keys').select(['id', 'allowance_micro', 'spent_micro', 'unfinished']).where('id', 'in', keyIds).orderBy('id');
  const keyRows = await (locked ? keyQuery.forNoKeyUpdate() : keyQuery).execute();
  const userQuery = q.selectFrom('users').select(['id', 'balance_micro']).where('id', 'in', userIds).orderBy('id');
  const userRows = await (locked ? userQuery.forNoKeyUpdate() : userQuery).execute();
  const keys = new Map(keyRows.map((k): [string, KeyFunds] => [k.id, {
    allowance_micro: k.allowance_micro === null ? null : Number(k.allowance_micro), spent_micro: Number(k.spent_micro), unfinished: Number(k.unfinished),
  }]));
  return { keys, balances: new Map(userRows.map((u) => [u.id, Number(u.balance_micro)])) };
}

import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../dialect.ts';

/**
 * Credits, limits, callbacks and idempotency. Balances are cached next to the ledger rows that
 * make them, and changed in the same transaction; the ledger stays the record.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('used_micro', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

  const keyColumns: [string, 'bigint' | 'integer', number | null][] = [
    ['allowance_micro', 'bigint', null], // null = no allowance of its own
    ['spent_micro', 'bigint', 0], // reserved and not released, through this key
    ['used_micro', 'bigint', 0], // charged through this key
    ['unlimited', 'integer', 0],
    ['unfinished', 'integer', 0], // pending + processing tasks of this key
    ['rpm', 'integer', null], // null = the setting's default
    ['max_unfinished', 'integer', null],
  ];
  for (const [name, type, fallback] of keyColumns) {
    await db.schema.alterTable('api_keys').addColumn(name, type, (c) => (fallback === null ? c : c.notNull().defaultTo(fallback))).execute();
  }

  await rebuildLedger(db);
  await reserveUnfinishedTasks(db);

  await db.schema
    .createTable('callback_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('round_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('delivered_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('callback_deliveries_task').on('callback_deliveries').column('task_id').execute();
  await db.schema
    .createIndex('callback_deliveries_due')
    .on('callback_deliveries')
    .column('next_attempt_at')
    .where(sql.raw<boolean>("state in ('pending', 'sending')"))
    .execute();

  await db.schema
    .createTable('callback_attempts')
    .addColumn('delivery_id', 'text', (c) => c.notNull().references('callback_deliveries.id'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('callback_attempts_pk', ['delivery_id', 'attempt'])
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id'))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['user_id', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_expiry').on('idempotency_keys').column('expires_at').execute();
}

/**
 * Every create appends a reservation row, so the ledger is keyed by an integer that only grows
 * (rows append at the end of the table, with no second index to keep) instead of a random text id.
 */
async function rebuildLedger(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ledger_entries_v2')
    .addColumn('id', isPostgres(db) ? 'bigserial' : 'integer', (c) => c.primaryKey()) // SQLite: an integer primary key is the rowid, and grows
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('key_id', 'text')
    .addColumn('task_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('amount_micro', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  const columns = ['user_id', 'key_id', 'task_id', 'kind', 'amount_micro', 'created_at'];
  await db
    .insertInto('ledger_entries_v2')
    .columns(columns)
    .expression(db.selectFrom('ledger_entries').select(columns).orderBy('created_at'))
    .execute();
  await db.schema.dropTable('ledger_entries').execute();
  await db.schema.alterTable('ledger_entries_v2').renameTo('ledger_entries').execute();
}

/** Tasks still running from before the ledger reserve now, so their settlement balances out. */
async function reserveUnfinishedTasks(db: Kysely<any>): Promise<void> {
  const unfinished = await db
    .selectFrom('tasks')
    .select(['id', 'user_id', 'key_id', 'credits_reserved_micro', 'created_at'])
    .where('status', 'in', ['pending', 'processing'])
    .execute();
  for (const task of unfinished) {
    const amount = Number(task.credits_reserved_micro);
    await db.updateTable('users').set((eb) => ({ balance_micro: eb('balance_micro', '-', amount) })).where('id', '=', task.user_id).execute();
    await db
      .updateTable('api_keys')
      .set((eb) => ({ spent_micro: eb('spent_micro', '+', amount), unfinished: eb('unfinished', '+', 1) }))
      .where('id', '=', task.key_id)
      .execute();
    await db
      .insertInto('ledger_entries')
      .values({ user_id: task.user_id, key_id: task.key_id, task_id: task.id, kind: 'reserve', amount_micro: amount, created_at: task.created_at })
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['idempotency_keys', 'callback_attempts', 'callback_deliveries']) await db.schema.dropTable(table).execute();
  for (const column of ['max_unfinished', 'rpm', 'unfinished', 'unlimited', 'used_micro', 'spent_micro', 'allowance_micro']) {
    await db.schema.alterTable('api_keys').dropColumn(column).execute();
  }
  await db.schema.alterTable('users').dropColumn('used_micro').execute();
}

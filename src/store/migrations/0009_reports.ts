import { type Kysely, sql } from 'kysely';
import { addSettledTask, type UsageRollupKey } from '../../billing/usage.ts';

/**
 * CONTRACT §10.2's reports: each ledger row keeps the balance after it and a note; a key, when it
 * last made a task; settled tasks
 * are counted per day, user, model and channel as they end (a 30-day report reads these rows,
 * not a million tasks); the task browser pages by time, by key and by channel.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ledger_entries').addColumn('balance_after_micro', 'bigint').execute();
  await db.schema.alterTable('ledger_entries').addColumn('note', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('last_used_at', 'bigint').execute();
  // Existing rows: the running sum of each user's rows in ledger order.
  await sql`update ledger_entries set balance_after_micro = w.balance from (
      select id, sum(case kind when 'reserve' then -amount_micro when 'charge' then 0 else amount_micro end)
        over (partition by user_id order by id rows unbounded preceding) as balance
      from ledger_entries) as w
    where w.id = ledger_entries.id`.execute(db);

  await db.schema
    .createTable('usage_daily')
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('completed', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('cancelled', 'integer', (c) => c.notNull())
    .addColumn('billed_seconds', 'bigint', (c) => c.notNull())
    .addColumn('charged_micro', 'bigint', (c) => c.notNull())
    .addColumn('released_micro', 'bigint', (c) => c.notNull())
    .addColumn('durations_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_daily_pk', ['day', 'user_id', 'model', 'channel'])
    .execute();
  await backfillUsage(db);

  await db.schema.createIndex('tasks_by_time').on('tasks').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('tasks_by_key').on('tasks').columns(['key_id', 'created_at']).execute();
  await db.schema.createIndex('tasks_by_channel').on('tasks').columns(['engine', 'created_at']).execute();
  // Unfinished tasks are counted live by the usage report (they are not in usage_daily yet).
  await db.schema.createIndex('tasks_unfinished').on('tasks').column('created_at').where(sql.raw<boolean>("status in ('pending', 'processing')")).execute();
  await db.schema.createIndex('ledger_entries_by_time').on('ledger_entries').column('created_at').execute();
}

/** Tasks that ended before this migration, counted as if they had ended after it. */
async function backfillUsage(db: Kysely<any>): Promise<void> {
  const pageSize = 5000;
  for (let after = ''; ;) {
    const rows = await db.selectFrom('tasks')
      .select(['id', 'user_id', 'model', 'engine', 'status', 'created_at', 'finished_at', 'credits_reserved_micro', 'credits_charged_micro', 'billed_seconds'])
      .where('status', 'in', ['completed', 'failed', 'cancelled']).where('id', '>', after).orderBy('id').limit(pageSize).execute();
    for (const row of rows) {
      const key: UsageRollupKey = { created_at: Number(row.created_at), user_id: row.user_id, model: row.model, engine: row.engine };
      await addSettledTask(db, key, {
        status: row.status, finished_at: Number(row.finished_at ?? row.created_at), charged: Number(row.credits_charged_micro ?? 0),
        reserved: Number(row.credits_reserved_micro), billedSeconds: row.status === 'completed' ? Number(row.billed_seconds) : 0,
      });
    }
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1].id;
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['ledger_entries_by_time', 'tasks_unfinished', 'tasks_by_channel', 'tasks_by_key', 'tasks_by_time']) await db.schema.dropIndex(index).execute();
  await db.schema.dropTable('usage_daily').execute();
  await db.schema.alterTable('api_keys').dropColumn('last_used_at').execute();
  await db.schema.alterTable('ledger_entries').dropColumn('note').execute();
  await db.schema.alterTable('ledger_entries').dropColumn('balance_after_micro').execute();
}

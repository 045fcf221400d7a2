import { type Kysely, sql } from 'kysely';

/**
 * The job queue (one job per task), and the task columns the worker fills. Indexes are partial
 * where they can be, so creating a task touches as few of them as possible.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('task_id', 'text', (c) => c.primaryKey().references('tasks.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').column('run_at').where(sql.raw<boolean>("state in ('queued', 'running')")).execute();

  await db.schema.alterTable('tasks').addColumn('engine', 'text', (c) => c.notNull().defaultTo('local')).execute();
  await db.schema.alterTable('tasks').addColumn('started_at', 'bigint').execute();
  await db.schema.alterTable('tasks').addColumn('swept_at', 'bigint').execute();
  await db.schema.dropIndex('tasks_status').execute(); // nothing reads tasks by status alone
  await db.schema
    .createIndex('tasks_history')
    .on('tasks')
    .columns(['model', 'engine', 'quality', 'finished_at'])
    .where(sql.raw<boolean>("status = 'completed'"))
    .execute();
  await db.schema
    .createIndex('tasks_unswept')
    .on('tasks')
    .column('finished_at')
    .where(sql.raw<boolean>('finished_at is not null and swept_at is null'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tasks_unswept').execute();
  await db.schema.dropIndex('tasks_history').execute();
  await db.schema.createIndex('tasks_status').on('tasks').column('status').execute();
  for (const column of ['swept_at', 'started_at', 'engine']) await db.schema.alterTable('tasks').dropColumn(column).execute();
  await db.schema.dropTable('jobs').execute();
}

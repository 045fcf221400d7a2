import type { Kysely } from 'kysely';

/** The job queue, and the task columns the worker fills: engine, start time, file sweep. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id'))
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
  await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_at']).execute();
  await db.schema.createIndex('jobs_leases').on('jobs').columns(['state', 'lease_expires_at']).execute();
  await db.schema.createIndex('jobs_task').on('jobs').column('task_id').execute();

  await db.schema.alterTable('tasks').addColumn('engine', 'text', (c) => c.notNull().defaultTo('local')).execute();
  await db.schema.alterTable('tasks').addColumn('started_at', 'bigint').execute();
  await db.schema.alterTable('tasks').addColumn('swept_at', 'bigint').execute();
  await db.schema.createIndex('tasks_history').on('tasks').columns(['model', 'engine', 'status', 'finished_at']).execute();
  await db.schema.createIndex('tasks_sweep').on('tasks').columns(['swept_at', 'finished_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tasks_sweep').execute();
  await db.schema.dropIndex('tasks_history').execute();
  for (const column of ['swept_at', 'started_at', 'engine']) await db.schema.alterTable('tasks').dropColumn(column).execute();
  await db.schema.dropTable('jobs').execute();
}

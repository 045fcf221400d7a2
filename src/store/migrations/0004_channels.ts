import { type Kysely, sql } from 'kysely';

/**
 * Channels: a job remembers its model, the channel it was routed to (and the ones it tried),
 * its phase there and the upstream's id for it. A job waiting on an upstream is `waiting`
 * (polled); one waiting for a channel with room is `parked`. Channel health and submit pacing
 * live in one row per channel, so every process sees them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const columns: [string, 'text' | 'bigint', string | null][] = [
    ['model', 'text', "''"],
    ['phase', 'text', "'route'"], // route → submitting → accepted | unknown → fetch; local: route → render
    ['channel', 'text', null],
    ['tried_channels', 'text', "''"], // comma-separated, in order
    ['submit_key', 'text', null],
    ['upstream_id', 'text', null],
    ['upstream_ref', 'text', null], // the engine's own JSON (e.g. fal's status and result URLs)
    ['upstream_result', 'text', null], // JSON {url, billedSeconds} once the upstream succeeded
    ['submitted_at', 'bigint', null],
  ];
  for (const [name, type, fallback] of columns) {
    await db.schema.alterTable('jobs').addColumn(name, type, (c) => (fallback === null ? c : c.notNull().defaultTo(sql.raw(fallback)))).execute();
  }
  await sql`update jobs set model = (select model from tasks where tasks.id = jobs.task_id)`.execute(db);
  await db.schema.createIndex('jobs_polls').on('jobs').columns(['channel', 'run_at']).where(sql.raw<boolean>("state = 'waiting'")).execute();
  await db.schema.createIndex('jobs_parked').on('jobs').columns(['model', 'created_at']).where(sql.raw<boolean>("state = 'parked'")).execute();
  await db.schema
    .createIndex('jobs_in_flight')
    .on('jobs')
    .column('channel')
    .where(sql.raw<boolean>("state in ('running', 'waiting') and phase in ('submitting', 'unknown', 'accepted')"))
    .execute();
  await db.schema.createIndex('jobs_upstream').on('jobs').columns(['channel', 'upstream_id']).where(sql.raw<boolean>('upstream_id is not null')).execute();

  await db.schema
    .createTable('channel_health')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0)) // in a row
    .addColumn('unhealthy_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('submit_tat', 'bigint', (c) => c.notNull().defaultTo(0)) // theoretical arrival time of the next submit (GCRA)
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('channel_health').execute();
  for (const index of ['jobs_upstream', 'jobs_in_flight', 'jobs_parked', 'jobs_polls']) await db.schema.dropIndex(index).execute();
  for (const column of ['submitted_at', 'upstream_result', 'upstream_ref', 'upstream_id', 'submit_key', 'tried_channels', 'channel', 'phase', 'model']) {
    await db.schema.alterTable('jobs').dropColumn(column).execute();
  }
}

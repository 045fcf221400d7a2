import type { Kysely } from 'kysely';

/**
 * CONTRACT §10: users have a role and can be disabled; keys have a name and may expire; every
 * admin action leaves an audit row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('role', 'text', (c) => c.notNull().defaultTo('user')).execute();
  await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
  await db.schema.alterTable('api_keys').addColumn('name', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('expires_at', 'bigint').execute();
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('actor_user_id', 'text')
    .addColumn('key_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('before_json', 'text')
    .addColumn('after_json', 'text')
    .execute();
  await db.schema.createIndex('audit_log_by_time').on('audit_log').columns(['created_at', 'id']).execute();
  // The live price book: the prices the operator set (the others are the defaults); version grows with every change.
  await db.schema
    .createTable('prices')
    .addColumn('model', 'text', (c) => c.primaryKey())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('prices_json', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('tasks').addColumn('price_version', 'integer').execute();
  // A paused channel takes no new jobs, in every process (they all read channel_health).
  await db.schema.alterTable('channel_health').addColumn('paused_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('channel_health').dropColumn('paused_at').execute();
  await db.schema.alterTable('tasks').dropColumn('price_version').execute();
  await db.schema.dropTable('prices').execute();
  await db.schema.dropTable('audit_log').execute();
  await db.schema.alterTable('api_keys').dropColumn('expires_at').execute();
  await db.schema.alterTable('api_keys').dropColumn('name').execute();
  await db.schema.alterTable('users').dropColumn('disabled_at').execute();
  await db.schema.alterTable('users').dropColumn('role').execute();
}

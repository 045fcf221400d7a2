import type { Kysely } from 'kysely';

/**
 * CONTRACT §8: a task the upstream can no longer stop is no longer cancellable; each claim of a
 * job gets a fencing token of its own; a user's uploads are bounded in bytes as well as files;
 * signed input URLs need a key all processes share.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tasks').addColumn('can_cancel', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('jobs').addColumn('lease_token', 'text').execute();
  // The URLs the upstream was handed for the inputs of the current submit (a lost submit's lookup resends them).
  await db.schema.alterTable('jobs').addColumn('input_urls', 'text').execute();
  await db.schema.alterTable('users').addColumn('max_file_bytes', 'bigint').execute();
  // Secrets every process of an install shares, made once (e.g. the key that signs input URLs).
  await db.schema.createTable('server_secrets').addColumn('name', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('server_secrets').execute();
  await db.schema.alterTable('users').dropColumn('max_file_bytes').execute();
  await db.schema.alterTable('jobs').dropColumn('input_urls').execute();
  await db.schema.alterTable('jobs').dropColumn('lease_token').execute();
  await db.schema.alterTable('tasks').dropColumn('can_cancel').execute();
}

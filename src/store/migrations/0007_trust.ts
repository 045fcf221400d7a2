import type { Kysely } from 'kysely';

/**
 * CONTRACT §8: a task the upstream can no longer stop is no longer cancellable; each claim of a
 * job gets a fencing token of its own; a user's uploads are bounded in bytes as well as files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tasks').addColumn('can_cancel', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('jobs').addColumn('lease_token', 'text').execute();
  await db.schema.alterTable('users').addColumn('max_file_bytes', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('max_file_bytes').execute();
  await db.schema.alterTable('jobs').dropColumn('lease_token').execute();
  await db.schema.alterTable('tasks').dropColumn('can_cancel').execute();
}

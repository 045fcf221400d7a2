import type { Kysely } from 'kysely';

/** CONTRACT §11.1: the task event streams' catch-up read finds the tasks changed in the last seconds. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('tasks_by_change').on('tasks').column('updated_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tasks_by_change').execute();
}

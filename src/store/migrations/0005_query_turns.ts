import type { Kysely } from 'kysely';

/** Status queries to a channel are spaced across every process: the next free turn lives in its health row. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('channel_health').addColumn('query_tat', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

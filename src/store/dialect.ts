import { type Kysely, PostgresAdapter } from 'kysely';

/** Whether the store is PostgreSQL (a few statements and migrations differ). */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

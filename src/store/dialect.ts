import { type RawBuilder, type Expression, type Kysely, PostgresAdapter, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';

/** Whether the store is PostgreSQL (a few statements and migrations differ). */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * `column` is one of the rows a claim picks. On PostgreSQL the pick locks its rows and skips
 * rows another claimer holds (`FOR UPDATE SKIP LOCKED`), and runs once (`= any(array(…))`: an
 * `in (…)` may be run again by the planner and pick more than its limit). SQLite has one
 * writer at a time and needs neither. Claims repeat their conditions outside the pick too, so a
 * row that changed meanwhile is not taken.
 */
export function pickedBy(db: Kysely<any>, column: string, pick: SelectQueryBuilder<any, any, any>): Expression<SqlBool> {
  return isPostgres(db) ? sql<SqlBool>`${sql.ref(column)} = any(array(${pick.forUpdate().skipLocked()}))` : sql<SqlBool>`${sql.ref(column)} in (${pick})`;
}

/**
 * Serializes one-time set-up across processes starting together (PostgreSQL: an advisory lock
 * held to the end of the transaction). SQLite needs none: its writers already take turns, and
 * several processes on one SQLite file start one after another in practice.
 */
export async function lockForSetup(trx: Kysely<any>, name: string): Promise<void> {
  if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
}

/** A fresh random token per row of the statement (a lease's fencing token): each dialect's own random source. */
export function randomToken(db: Kysely<any>): RawBuilder<string> {
  return isPostgres(db) ? sql<string>`md5(random()::text || clock_timestamp()::text)` : sql<string>`lower(hex(randomblob(16)))`;
}

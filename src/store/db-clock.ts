import { sql } from 'kysely';
import type { Clock } from '../util/clock.ts';
import type { Db } from './db.ts';

const RESYNC_MS = 60_000;

/** The database server's clock in unix ms, and how far this process's clock is from it. */
export async function measureOffset(db: Db): Promise<number> {
  const sentAt = Date.now();
  const { rows } = await sql<{ ms: string }>`select (extract(epoch from clock_timestamp()) * 1000)::bigint as ms`.execute(db);
  const answeredAt = Date.now();
  return Number(rows[0].ms) - Math.round((sentAt + answeredAt) / 2);
}

/**
 * PostgreSQL's clock as every process's `now` (CONTRACT §8.8): leases written by one node and
 * judged by another agree even when the nodes' clocks drift. This process's clock plus the
 * offset to the server's, measured at start and every minute; a failed re-measure keeps the last.
 */
export async function databaseClock(db: Db): Promise<Clock & { close(): void }> {
  let offset = await measureOffset(db);
  const timer = setInterval(() => {
    measureOffset(db).then((measured) => (offset = measured), () => {});
  }, RESYNC_MS);
  timer.unref();
  return { now: () => Date.now() + offset, close: () => clearInterval(timer) };
}

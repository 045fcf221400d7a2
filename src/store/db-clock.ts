import { sql } from 'kysely';
import type { Clock } from '../util/clock.ts';
import type { Db } from './db.ts';

const RESYNC_MS = 60_000;
const SAMPLES = 5;

/**
 * How far this process's clock is from the database server's, in ms: of a few round trips, the
 * quickest (its error is at most half its round trip, so a busy moment cannot skew the offset).
 */
export async function measureOffset(db: Db): Promise<number> {
  let best = { roundTrip: Infinity, offset: 0 };
  for (let i = 0; i < SAMPLES; i += 1) {
    const sentAt = performance.now();
    const { rows } = await sql<{ ms: string }>`select (extract(epoch from clock_timestamp()) * 1000)::bigint as ms`.execute(db);
    const roundTrip = performance.now() - sentAt;
    if (roundTrip < best.roundTrip) best = { roundTrip, offset: Number(rows[0].ms) - Math.round(Date.now() - roundTrip / 2) };
  }
  return best.offset;
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

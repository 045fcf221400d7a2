import { type Kysely, sql } from 'kysely';
import type { SharedTurns } from '../engines/pacer.ts';
import type { Store } from '../store/db.ts';
import { isPostgres } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';

type Q = Kysely<Database>;

/** Retryable failures in a row after which a channel rests. */
export const FAILURES_TO_REST = 3;
/** How long a failing channel rests before it is tried again. */
export const REST_MS = 30_000;

async function ensureRow(q: Q, name: string, now: number): Promise<void> {
  await q.insertInto('channel_health').values({ name, failures: 0, unhealthy_until: 0, submit_tat: 0, updated_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
}

/**
 * Holds the rows of channels whose capacity is about to be counted and taken, to the end of the
 * transaction, so workers routing at the same moment take turns and never overfill a channel.
 * Always in name order: two routers never wait for each other in a circle. SQLite's one writer
 * needs no lock.
 */
export async function lockChannelRows(q: Q, names: string[], now: number): Promise<void> {
  if (!isPostgres(q) || names.length === 0) return;
  const sorted = [...names].sort();
  for (const name of sorted) await ensureRow(q, name, now);
  await q.selectFrom('channel_health').select('name').where('name', 'in', sorted).orderBy('name').forUpdate().execute();
}

/** Channels resting right now (after failures, or paused by an admin: until resumed), by name, with the time they may be tried again. */
export async function restingChannels(q: Q, now: number): Promise<Map<string, number>> {
  const rows = await q.selectFrom('channel_health').select(['name', 'unhealthy_until', 'paused_at'])
    .where((eb) => eb.or([eb('unhealthy_until', '>', now), eb('paused_at', 'is not', null)])).execute();
  return new Map(rows.map((r) => [r.name, r.paused_at !== null ? Infinity : Number(r.unhealthy_until)]));
}

/** Pauses or resumes a channel for every process; answers whether that changed anything. */
export async function setChannelPaused(q: Q, name: string, paused: boolean, now: number): Promise<boolean> {
  await ensureRow(q, name, now);
  const changed = await q.updateTable('channel_health').set({ paused_at: paused ? now : null, updated_at: now })
    .where('name', '=', name).where('paused_at', paused ? 'is' : 'is not', null).executeTakeFirst();
  return changed.numUpdatedRows === 1n;
}

/** Each channel's health row: failures in a row, resting until, paused since. */
export async function channelHealthRows(q: Q): Promise<Map<string, { failures: number; unhealthy_until: number; paused_at: number | null }>> {
  const rows = await q.selectFrom('channel_health').select(['name', 'failures', 'unhealthy_until', 'paused_at']).execute();
  return new Map(rows.map((r) => [r.name, { failures: r.failures, unhealthy_until: Number(r.unhealthy_until), paused_at: r.paused_at === null ? null : Number(r.paused_at) }]));
}

/**
 * Takes a submit slot under `perSecond` (GCRA: bursts of up to one second's worth); returns 0
 * when taken, else the milliseconds until one frees. One guarded UPDATE, so it is exact across
 * processes on either store.
 */
export async function takeSubmitSlot(q: Q, name: string, perSecond: number, now: number): Promise<number> {
  if (perSecond <= 0) return 0;
  await ensureRow(q, name, now);
  const interval = Math.ceil(1000 / perSecond); // whole ms (bigint columns); rounded up, never faster than asked
  const tolerance = interval * (Math.max(1, Math.floor(perSecond)) - 1); // a burst of one second's worth
  const tat = sql<number>`case when submit_tat > ${now} then submit_tat else ${now} end`;
  const taken = await q
    .updateTable('channel_health')
    .set({ submit_tat: sql`${tat} + ${interval}`, updated_at: now })
    .where('name', '=', name)
    .where(sql<boolean>`${tat} - ${now} <= ${tolerance}`)
    .executeTakeFirst();
  if (taken.numUpdatedRows === 1n) return 0;
  const row = await q.selectFrom('channel_health').select('submit_tat').where('name', '=', name).executeTakeFirstOrThrow();
  return Math.max(1, Math.ceil(Number(row.submit_tat) - now - tolerance));
}

/** Books a channel's next status-query turn: a gap after the last one any process booked, not before `now`; returns its start. */
export async function bookQueryTurn(q: Q, name: string, gapMs: number, now: number): Promise<number> {
  const gap = Math.ceil(gapMs); // whole ms (bigint columns); rounded up, never faster than asked
  await ensureRow(q, name, now);
  const start = sql<number>`case when query_tat > ${now} then query_tat else ${now} end`;
  const row = await q
    .updateTable('channel_health')
    .set({ query_tat: sql`${start} + ${gap}`, updated_at: now })
    .where('name', '=', name)
    .returning('query_tat')
    .executeTakeFirstOrThrow();
  return Number(row.query_tat) - gap;
}

/** The channel throttled us: no process queries it before `until`. */
export async function holdOffQueries(q: Q, name: string, until: number): Promise<void> {
  await q.updateTable('channel_health').set({ query_tat: sql`case when query_tat > ${until} then query_tat else ${until} end` }).where('name', '=', name).execute();
}

/** A channel's status-query turns, kept in the store so every worker process shares one rate. */
export function sharedQueryTurns(store: Store, name: string): SharedTurns {
  return {
    book: (gapMs, now) => store.write((trx) => bookQueryTurn(trx, name, gapMs, now)),
    holdOff: (until) => store.write((trx) => holdOffQueries(trx, name, Math.round(until))),
  };
}

/** A retryable failure: after a few in a row (or a throttle with Retry-After) the channel rests. */
export async function recordChannelFailure(q: Q, name: string, now: number, retryAfterMs?: number): Promise<void> {
  await ensureRow(q, name, now);
  const restUntil = now + Math.max(REST_MS, retryAfterMs ?? 0);
  await q
    .updateTable('channel_health')
    .set((eb) => ({
      failures: eb('failures', '+', 1),
      unhealthy_until: retryAfterMs !== undefined
        ? now + retryAfterMs
        : sql<number>`case when failures + 1 >= ${FAILURES_TO_REST} then ${restUntil} else unhealthy_until end`,
      updated_at: now,
    }))
    .where('name', '=', name)
    .execute();
}

/** A success ends a streak of failures (a no-op write when there was none). */
export async function recordChannelSuccess(q: Q, name: string, now: number): Promise<void> {
  await q.updateTable('channel_health').set({ failures: 0, unhealthy_until: 0, updated_at: now }).where('name', '=', name).where('failures', '>', 0).execute();
}

import { type Kysely, sql } from 'kysely';
import type { Database } from '../store/schema.ts';
import { microToCredits } from './money.ts';

type Q = Kysely<Database>;

/**
 * Usage (CONTRACT §10.2): every task that ends is added to its row of `usage_daily` — its
 * creation day (UTC), user, model and channel — in the transaction that settles it, next to
 * its ledger rows, so the report agrees with the ledger to the micro-credit. A report reads
 * these rows (a few per day) plus the unfinished tasks, never the whole task table.
 */

/** What a task is counted under. */
export type UsageRollupKey = { created_at: number; user_id: string; model: string; engine: string };

/** How a task ended and what it moved. */
export type SettledUsage = { status: string; finished_at: number; charged: number; reserved: number; billedSeconds: number };

/** Seconds from create to end, kept exact below two minutes and to 2% above (percentiles come from these counts). */
export function durationBucket(seconds: number): number {
  if (seconds < 120) return Math.max(0, Math.round(seconds));
  return Math.round(1.02 ** Math.round(Math.log(seconds) / Math.log(1.02)));
}

/** The UTC day of a unix-ms time, as YYYY-MM-DD. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Adds one ended task to its day's row (inside the settling transaction). */
export async function addSettledTask(q: Kysely<any>, key: UsageRollupKey, ended: SettledUsage): Promise<void> {
  const bucket = String(durationBucket((ended.finished_at - key.created_at) / 1000));
  const counts = {
    completed: ended.status === 'completed' ? 1 : 0, failed: ended.status === 'failed' ? 1 : 0, cancelled: ended.status === 'cancelled' ? 1 : 0,
    billed_seconds: ended.billedSeconds, charged_micro: ended.charged, released_micro: ended.reserved - ended.charged,
  };
  const row = await q.insertInto('usage_daily')
    .values({ day: dayOf(key.created_at), user_id: key.user_id, model: key.model, channel: key.engine, ...counts, durations_json: JSON.stringify({ [bucket]: 1 }) })
    .onConflict((oc) => oc.columns(['day', 'user_id', 'model', 'channel']).doUpdateSet((eb) => Object.fromEntries(
      Object.keys(counts).map((column) => [column, eb(eb.ref(`usage_daily.${column}`), '+', eb.ref(`excluded.${column}`))]),
    )))
    .returning([sql<number>`completed + failed + cancelled`.as('ended'), 'durations_json', 'day'])
    .executeTakeFirstOrThrow();
  if (Number(row.ended) === 1) return; // a new row: the insert wrote its one duration
  const durations = JSON.parse(row.durations_json) as Record<string, number>;
  durations[bucket] = (durations[bucket] ?? 0) + 1;
  await q.updateTable('usage_daily').set({ durations_json: JSON.stringify(durations) })
    .where('day', '=', row.day).where('user_id', '=', key.user_id).where('model', '=', key.model).where('channel', '=', key.engine).execute();
}

export const USAGE_GROUPS = ['day', 'model', 'user', 'channel'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export type UsageQuery = { groupBy: UsageGroup; sinceDay: string; untilDay: string; userId?: string; model?: string };

/** A usage row (CONTRACT §10.2): the group's value under the group's name, then the figures. */
export type UsageRow = Record<string, string | number | null> & {
  tasks: number; completed: number; failed: number; cancelled: number; billed_seconds: number;
  credits_charged: number; credits_released: number; p50_s: number | null; p95_s: number | null;
};

type Totals = { tasks: number; completed: number; failed: number; cancelled: number; billed: number; charged: number; released: number; durations: Record<string, number> };

/** The usage_daily column a group is read from. */
const GROUP_COLUMN = { day: 'day', model: 'model', user: 'user_id', channel: 'channel' } as const;

/**
 * Usage per group over whole UTC days `sinceDay`…`untilDay` (both included), sorted by the group's value.
 * The store sums the counters; only the duration counts are merged here (a 30-day report of a million tasks reads ~100k rows).
 */
export async function queryUsage(q: Q, query: UsageQuery): Promise<UsageRow[]> {
  const column = GROUP_COLUMN[query.groupBy];
  let rows = q.selectFrom('usage_daily').where('day', '>=', query.sinceDay).where('day', '<=', query.untilDay);
  if (query.userId) rows = rows.where('user_id', '=', query.userId);
  if (query.model) rows = rows.where('model', '=', query.model);
  const [sums, durations, names] = await Promise.all([
    rows.select((eb) => [
      eb.ref(column).as('group'), eb.fn.sum<number>('completed').as('completed'), eb.fn.sum<number>('failed').as('failed'), eb.fn.sum<number>('cancelled').as('cancelled'),
      eb.fn.sum<number>('billed_seconds').as('billed'), eb.fn.sum<number>('charged_micro').as('charged'), eb.fn.sum<number>('released_micro').as('released'),
    ]).groupBy(column).execute(),
    rows.select([sql.ref<string>(column).as('group'), 'durations_json']).execute(),
    query.groupBy === 'user' ? q.selectFrom('users').select(['id', 'name']).execute() : [],
  ]);
  const groups = new Map<string, Totals>();
  const totalsOf = (group: string) => {
    let totals = groups.get(group);
    if (!totals) groups.set(group, totals = { tasks: 0, completed: 0, failed: 0, cancelled: 0, billed: 0, charged: 0, released: 0, durations: {} });
    return totals;
  };
  for (const row of sums) {
    const totals = totalsOf(row.group);
    totals.completed = Number(row.completed);
    totals.failed = Number(row.failed);
    totals.cancelled = Number(row.cancelled);
    totals.tasks = totals.completed + totals.failed + totals.cancelled;
    totals.billed = Number(row.billed);
    totals.charged = Number(row.charged);
    totals.released = Number(row.released);
  }
  for (const row of durations) {
    const merged = totalsOf(row.group).durations;
    const counts = JSON.parse(row.durations_json) as Record<string, number>;
    for (const seconds in counts) merged[seconds] = (merged[seconds] ?? 0) + counts[seconds];
  }
  for (const task of await unfinishedTasks(q, query)) totalsOf(task[query.groupBy]).tasks += 1;
  const nameOf = new Map(names.map((user) => [user.id, user.name]));
  const label = (group: string) => (query.groupBy === 'user' ? nameOf.get(group) ?? group : group);
  return [...groups.entries()].map(([group, t]) => [label(group), t] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([group, t]) => ({
    [query.groupBy]: group, tasks: t.tasks, completed: t.completed, failed: t.failed, cancelled: t.cancelled, billed_seconds: t.billed,
    credits_charged: microToCredits(t.charged), credits_released: microToCredits(t.released), p50_s: percentile(t.durations, 0.5), p95_s: percentile(t.durations, 0.95),
  }) as UsageRow);
}

/** Tasks still running in the window: counted in `tasks`, not yet in usage_daily (users by id, as usage_daily has them). */
async function unfinishedTasks(q: Q, query: UsageQuery): Promise<Record<UsageGroup, string>[]> {
  const from = Date.parse(`${query.sinceDay}T00:00:00Z`);
  const to = Date.parse(`${query.untilDay}T00:00:00Z`) + 86_400_000;
  let tasks = q.selectFrom('tasks')
    .select(['tasks.created_at', 'tasks.user_id as user', 'tasks.model', 'tasks.engine as channel'])
    // Literal, not bound, so both stores see it matches the partial index tasks_unfinished (else SQLite reads every task).
    .where(sql<boolean>`tasks.status in ('pending', 'processing')`).where('tasks.created_at', '>=', from).where('tasks.created_at', '<', to);
  if (query.userId) tasks = tasks.where('tasks.user_id', '=', query.userId);
  if (query.model) tasks = tasks.where('tasks.model', '=', query.model);
  return (await tasks.execute()).map((t) => ({ day: dayOf(Number(t.created_at)), user: t.user, model: t.model, channel: t.channel }));
}

/** The nearest-rank percentile of counted durations; null when there are none. */
function percentile(durations: Record<string, number>, p: number): number | null {
  const sorted = Object.entries(durations).map(([seconds, count]) => [Number(seconds), count] as const).sort(([a], [b]) => a - b);
  const total = sorted.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.ceil(p * total);
  let seen = 0;
  for (const [seconds, count] of sorted) if ((seen += count) >= rank) return seconds;
  return sorted[sorted.length - 1][0];
}

/** The whole UTC days a report covers: `since` and `until` are unix seconds or YYYY-MM-DD; by default the last 30 days. */
export function usageWindow(window: { since?: string; until?: string }, now: number): { sinceDay: string; untilDay: string } {
  const dayOfInput = (value: string) => (/^\d+$/.test(value) ? dayOf(Number(value) * 1000) : value);
  const untilDay = window.until === undefined ? dayOf(now) : dayOfInput(window.until);
  const sinceDay = window.since === undefined ? dayOf(Date.parse(`${untilDay}T00:00:00Z`) - 29 * 86_400_000) : dayOfInput(window.since);
  return { sinceDay, untilDay };
}

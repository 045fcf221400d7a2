import { type Kysely, type Selectable, sql } from 'kysely';
import { pickedBy } from '../store/dialect.ts';
import type { Database, JobsTable } from '../store/schema.ts';
import { fenced, type LeaseFence } from './jobs.ts';

type Q = Kysely<Database>;
type JobRow = Selectable<JobsTable>;

/**
 * The statements that move a job across channels and upstreams, one each, like jobs.ts: a
 * leased job's are fenced by its lease; a waiting job's by `state = 'waiting'` (a cancel or
 * another poller's transition makes them miss). Callers check the result.
 */

const updated = (result: { numUpdatedRows: bigint }) => result.numUpdatedRows === 1n;

/** Routes a leased job to `channel` (recording it as tried) in `phase`; a submit gets a fresh key. */
export async function routeJob(q: Q, job: LeaseFence, route: { channel: string; phase: 'render' | 'submitting'; tried: string; submitKey: string | null }, now: number): Promise<boolean> {
  const query = q.updateTable('jobs').set({
    channel: route.channel, phase: route.phase, tried_channels: route.tried, submit_key: route.submitKey,
    upstream_id: null, upstream_ref: null, input_urls: null, submitted_at: route.phase === 'submitting' ? now : null, updated_at: now,
  });
  return updated(await fenced(query, job, now).executeTakeFirst());
}

/** Records the URLs a submit hands the upstream for the inputs, before it is sent (a lookup must send the same). */
export async function recordInputUrls(q: Q, job: LeaseFence, urls: Record<string, string>, now: number): Promise<boolean> {
  return updated(await fenced(q.updateTable('jobs').set({ input_urls: JSON.stringify(urls), updated_at: now }), job, now).executeTakeFirst());
}

/** No channel has room: the job waits, unleased and unrun (the attempt does not count), until unparked. */
export async function parkJob(q: Q, job: LeaseFence, now: number): Promise<boolean> {
  const query = q.updateTable('jobs').set((eb) => ({
    state: 'parked', phase: 'route', channel: null, lease_owner: null, lease_expires_at: null, attempts: eb('attempts', '-', 1), updated_at: now,
  }));
  return updated(await fenced(query, job, now).executeTakeFirst());
}

/** Whether any job is parked (a cheap look at the partial index before waking any). */
export async function anyParked(q: Q): Promise<boolean> {
  return (await q.selectFrom('jobs').select('task_id').where(sql<boolean>`state = 'parked'`).limit(1).executeTakeFirst()) !== undefined;
}

/** Makes up to `limit` of the oldest parked jobs of these models due again; null = any model. */
export async function unparkJobs(q: Q, models: string[] | null, limit: number, now: number): Promise<number> {
  if (limit <= 0 || models?.length === 0) return 0;
  const parked = q.selectFrom('jobs').select('task_id').where(sql<boolean>`state = 'parked'`);
  const result = await q
    .updateTable('jobs')
    .set({ state: 'queued', run_at: now, updated_at: now })
    .where(pickedBy(q, 'task_id', (models ? parked.where('model', 'in', models) : parked).orderBy('created_at').limit(limit)))
    .where('state', '=', 'parked')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The upstream accepted the job: it leaves the worker and is polled from `pollAt`. */
export async function acceptJob(q: Q, job: LeaseFence, accepted: { upstreamId: string; ref: string | null }, pollAt: number, now: number): Promise<boolean> {
  const query = q.updateTable('jobs').set({
    state: 'waiting', phase: 'accepted', upstream_id: accepted.upstreamId, upstream_ref: accepted.ref,
    lease_owner: null, lease_expires_at: null, run_at: pollAt, updated_at: now,
  });
  return updated(await fenced(query, job, now).executeTakeFirst());
}

/** The submit's answer was lost: the job waits, unknown, for the poller to look it up. */
export async function markSubmitUnknown(q: Q, job: LeaseFence, lookupAt: number, now: number): Promise<boolean> {
  const query = q.updateTable('jobs').set({ state: 'waiting', phase: 'unknown', lease_owner: null, lease_expires_at: null, run_at: lookupAt, updated_at: now });
  return updated(await fenced(query, job, now).executeTakeFirst());
}

/** Leases a channel's waiting jobs due by `dueBy` for one poll pass: each is due again at `nextAt` unless the pass moves it. */
export async function claimDuePolls(q: Q, channel: string, dueBy: number, nextAt: number, limit: number): Promise<JobRow[]> {
  return q
    .updateTable('jobs')
    .set({ run_at: nextAt })
    .where(pickedBy(q, 'task_id', q.selectFrom('jobs').select('task_id').where(sql<boolean>`state = 'waiting'`).where('channel', '=', channel).where('run_at', '<=', dueBy).orderBy('run_at').limit(limit)))
    .where('state', '=', 'waiting')
    .where('run_at', '<=', dueBy)
    .returningAll()
    .execute();
}

/** A lookup found the lost submission upstream: poll it like any accepted job. */
export async function adoptJob(q: Q, taskId: string, accepted: { upstreamId: string; ref: string | null }, now: number): Promise<boolean> {
  const result = await q
    .updateTable('jobs')
    .set({ phase: 'accepted', upstream_id: accepted.upstreamId, upstream_ref: accepted.ref, run_at: now, updated_at: now })
    .where('task_id', '=', taskId)
    .where('state', '=', 'waiting')
    .where('phase', '=', 'unknown')
    .executeTakeFirst();
  return updated(result);
}

/** A lookup confirmed the submission never arrived: route it again, that channel allowed once more. */
export async function resubmitJob(q: Q, taskId: string, tried: string, now: number): Promise<boolean> {
  const result = await q
    .updateTable('jobs')
    .set({ state: 'queued', phase: 'route', channel: null, tried_channels: tried, submit_key: null, run_at: now, updated_at: now })
    .where('task_id', '=', taskId)
    .where('state', '=', 'waiting')
    .where('phase', '=', 'unknown')
    .executeTakeFirst();
  return updated(result);
}

/** The upstream finished the job: a worker fetches the result. */
export async function readyToFetch(q: Q, taskId: string, result: string, now: number): Promise<boolean> {
  const outcome = await q
    .updateTable('jobs')
    .set({ state: 'queued', phase: 'fetch', upstream_result: result, run_at: now, updated_at: now })
    .where('task_id', '=', taskId)
    .where('state', '=', 'waiting')
    .executeTakeFirst();
  return updated(outcome);
}

/** A waiting job ends for good (its task fails in the same transaction). */
export async function failWaitingJob(q: Q, taskId: string, error: string, now: number): Promise<boolean> {
  const result = await q
    .updateTable('jobs')
    .set({ state: 'failed', last_error: error, updated_at: now })
    .where('task_id', '=', taskId)
    .where('state', '=', 'waiting')
    .executeTakeFirst();
  return updated(result);
}

/** Of these upstream ids, the ones a job of any channel already owns (channels may share an upstream account). */
export async function ownedUpstreamIds(q: Q, upstreamIds: string[]): Promise<Set<string>> {
  if (upstreamIds.length === 0) return new Set();
  const rows = await q.selectFrom('jobs').select('upstream_id').where('upstream_id', 'in', upstreamIds).execute();
  return new Set(rows.map((r) => r.upstream_id!));
}

/** The job that owns an upstream id on a channel (webhooks name jobs by the upstream's id). */
export async function jobByUpstreamId(q: Q, channel: string, upstreamId: string): Promise<JobRow | undefined> {
  return q.selectFrom('jobs').selectAll().where('channel', '=', channel).where('upstream_id', '=', upstreamId).where(sql<boolean>`upstream_id is not null`).executeTakeFirst();
}

/** Jobs a channel has upstream right now, counted up to `limit` (enough to know whether it is full). */
export async function countInFlight(q: Q, channel: string, limit: number): Promise<number> {
  const row = await q
    .selectFrom((eb) =>
      eb.selectFrom('jobs').select(sql`1`.as('one'))
        .where(sql<boolean>`state in ('running', 'waiting') and phase in ('submitting', 'unknown', 'accepted')`)
        .where('channel', '=', channel)
        .limit(limit)
        .as('in_flight'),
    )
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A waiting job's status is worth asking now (a webhook said it changed). */
export async function pollSoon(q: Q, taskId: string, now: number): Promise<boolean> {
  const result = await q.updateTable('jobs').set({ run_at: now }).where('task_id', '=', taskId).where('state', '=', 'waiting').executeTakeFirst();
  return updated(result);
}

/** The unknown job whose lost submit carried this key. */
export async function unknownJobBySubmitKey(q: Q, channel: string, submitKey: string): Promise<JobRow | undefined> {
  return q.selectFrom('jobs').selectAll().where('channel', '=', channel).where('submit_key', '=', submitKey).where('phase', '=', 'unknown').where('state', '=', 'waiting').executeTakeFirst();
}

import { type Insertable, type Kysely, type Selectable, sql, type UpdateQueryBuilder, type UpdateResult } from 'kysely';
import { pickedBy, randomToken } from '../store/dialect.ts';
import { insertRow } from '../store/precompiled.ts';
import type { Database, JobsTable } from '../store/schema.ts';

export type JobRow = Selectable<JobsTable>;
type Q = Kysely<Database>;

/**
 * The queue's statements, one each. Time is always a parameter, and every statement on a
 * claimed job is fenced by the worker's id and an unexpired lease; callers check the row count.
 */

/** Adds a task's job, due now; call inside the transaction that writes the task. */
export async function enqueueJob(q: Q, taskId: string, model: string, maxAttempts: number, now: number): Promise<void> {
  await insertRow(q, 'jobs', newJobRow(taskId, model, maxAttempts, now));
}

/** A new task's job: queued, due now, routed first. */
export function newJobRow(taskId: string, model: string, maxAttempts: number, now: number): Insertable<JobsTable> {
  return {
    task_id: taskId, model, phase: 'route', tried_channels: '', state: 'queued', attempts: 0, max_attempts: maxAttempts, run_at: now,
    lease_owner: null, lease_expires_at: null, last_error: null, created_at: now, updated_at: now,
  };
}

// Written out, not bound, so the planner can use the partial index jobs_due.
const DUE_STATES = sql<boolean>`state in ('queued', 'running')`;

export type ClaimOptions = { workerId: string; limit: number; now: number; leaseMs: number };

/**
 * Leases up to `limit` due jobs: queued ones whose time has come and running ones whose lease
 * ran out (a running job's run_at is its lease's end, so one index serves both).
 */
export async function claimDueJobs(q: Q, { workerId, limit, now, leaseMs }: ClaimOptions): Promise<JobRow[]> {
  if (limit <= 0) return [];
  const expires = now + leaseMs;
  return q
    .updateTable('jobs')
    .set((eb) => ({
      state: 'running', lease_owner: workerId, lease_token: randomToken(q), lease_expires_at: expires, run_at: expires, attempts: eb('attempts', '+', 1), updated_at: now,
    }))
    .where(pickedBy(q, 'task_id', q.selectFrom('jobs').select('task_id').where(DUE_STATES).where('run_at', '<=', now).orderBy('run_at').limit(limit)))
    .where(DUE_STATES)
    .where('run_at', '<=', now)
    .returningAll()
    .execute();
}

/** Extends a held lease; false when the lease was lost (expired and taken, or finished). */
export async function heartbeatJob(q: Q, job: LeaseFence, now: number, leaseMs: number): Promise<boolean> {
  const expires = now + leaseMs;
  const result = await fenced(q.updateTable('jobs').set({ lease_expires_at: expires, run_at: expires, updated_at: now }), job, now).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Marks a leased job done; false when the lease was lost, and the caller must roll back. */
export async function completeJob(q: Q, job: LeaseFence, now: number): Promise<boolean> {
  const result = await fenced(q.updateTable('jobs').set({ state: 'done', lease_owner: null, lease_expires_at: null, updated_at: now }), job, now).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Marks a leased job failed for good (its task fails in the same transaction). */
export async function failJob(q: Q, job: LeaseFence, error: string, now: number): Promise<boolean> {
  const result = await fenced(
    q.updateTable('jobs').set({ state: 'failed', lease_owner: null, lease_expires_at: null, last_error: error, updated_at: now }),
    job,
    now,
  ).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Puts a leased job back in the queue to run again at `runAt`, after a failure. */
export async function retryJob(q: Q, job: LeaseFence, runAt: number, error: string, now: number): Promise<boolean> {
  const result = await fenced(
    q.updateTable('jobs').set({ state: 'queued', run_at: runAt, lease_owner: null, lease_expires_at: null, last_error: error, updated_at: now }),
    job,
    now,
  ).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Hands a leased job back unrun (shutdown, or a channel's submit pace): due at `runAt`, and the attempt does not count. */
export async function returnJob(q: Q, job: LeaseFence, now: number, runAt = now): Promise<boolean> {
  const result = await fenced(
    q.updateTable('jobs').set((eb) => ({ state: 'queued', run_at: runAt, lease_owner: null, lease_expires_at: null, attempts: eb('attempts', '-', 1), updated_at: now })),
    job,
    now,
  ).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Stops a task's unfinished job when its task is cancelled: a runner loses its lease, a poller skips it. */
export async function cancelJob(q: Q, taskId: string, now: number): Promise<JobRow | undefined> {
  return q
    .updateTable('jobs')
    .set({ state: 'cancelled', lease_owner: null, lease_token: null, lease_expires_at: null, updated_at: now })
    .where('task_id', '=', taskId)
    .where('state', 'in', ['queued', 'running', 'waiting', 'parked'])
    .returningAll()
    .executeTakeFirst();
}

/**
 * Which lease a statement acts under: the worker and the claim's fencing token, which changes at
 * every claim (CONTRACT §8.8), so a worker that lost its lease and claimed the job again is two
 * leases, and the old run's statements miss.
 */
export type LeaseFence = { taskId: string; workerId: string; token: string };

/** The fence of a job as a claim returned it. */
export function fenceOf(job: JobRow, workerId: string): LeaseFence {
  return { taskId: job.task_id, workerId, token: job.lease_token ?? '' };
}

type JobUpdate = UpdateQueryBuilder<Database, 'jobs', 'jobs', UpdateResult>;

export function fenced(query: JobUpdate, job: LeaseFence, now: number): JobUpdate {
  return query
    .where('task_id', '=', job.taskId)
    .where('state', '=', 'running')
    .where('lease_owner', '=', job.workerId)
    .where('lease_token', '=', job.token)
    .where('lease_expires_at', '>', now);
}

/** A fenced statement found the lease gone: another worker owns the job now; roll back. */
export class LeaseLostError extends Error {
  constructor(taskId: string) {
    super(`lost the lease on the job of ${taskId}`);
  }
}

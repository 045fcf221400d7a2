import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelayMs } from '../../src/queue/backoff.ts';
import { claimDueJobs, completeJob, enqueueJob, failJob, fenceOf, heartbeatJob, retryJob, returnJob } from '../../src/queue/jobs.ts';
import { describeOnEachStore } from '../helpers/store.ts';
import { seedTask } from '../helpers/tasks.ts';

const LEASE = 1_000;

describeOnEachStore('job queue statements', (handle) => {
  let n = 0;
  async function newJob(now: number, maxAttempts = 3): Promise<string> {
    const taskId = `task-unified-1-job${String(n++).padStart(5, '0')}`;
    await seedTask(handle.store, taskId, now);
    await enqueueJob(handle.store.db, taskId, 'wan2.7-text-to-video', maxAttempts, now);
    return taskId;
  }
  const claim = (workerId: string, now: number, limit = 10) => claimDueJobs(handle.store.db, { workerId, limit, now, leaseMs: LEASE });
  const job = async (id: string) => handle.store.db.selectFrom('jobs').selectAll().where('task_id', '=', id).executeTakeFirstOrThrow();

  it('claims due jobs once, oldest first, up to the limit, counting the attempt', async () => {
    const t = 10_000;
    const a = await newJob(t);
    const b = await newJob(t + 1);
    const later = await newJob(t + 5_000); // not due yet
    const first = await claim('w1', t + 10, 1);
    assert.deepEqual(first.map((j) => j.task_id), [a]);
    assert.equal(first[0].attempts, 1);
    assert.equal(first[0].lease_expires_at, t + 10 + LEASE);
    const second = await claim('w2', t + 10);
    assert.deepEqual(second.map((j) => j.task_id), [b], 'a leased job and a job not yet due are not claimed');
    for (const id of [a, b, later]) await handle.store.db.deleteFrom('jobs').where('task_id', '=', id).execute();
  });

  it('never gives one job to two claimers at once', async () => {
    const t = 50_000;
    const ids = [];
    for (let i = 0; i < 120; i += 1) ids.push(await newJob(t));
    const claims = await Promise.all(Array.from({ length: 8 }, (_, w) =>
      handle.store.write((trx) => claimDueJobs(trx, { workerId: `w${w}`, limit: 20, now: t + 1, leaseMs: LEASE }))));
    const claimed = claims.flat().map((j) => j.task_id);
    assert.equal(new Set(claimed).size, claimed.length, 'no job claimed twice');
    assert.ok(claims.every((c) => c.length <= 20), 'no claimer took more than its limit');
    assert.equal(claimed.length, 120, 'every due job was claimed by someone');
    for (const id of ids) await handle.store.db.deleteFrom('jobs').where('task_id', '=', id).execute();
  });

  it('reclaims a job whose lease ran out, and fences the old owner out', async () => {
    const t = 20_000;
    const id = await newJob(t);
    const [mine] = await claim('w1', t);
    assert.equal(await heartbeatJob(handle.store.db, fenceOf(mine, 'w1'), t + 500, LEASE), true, 'heartbeat extends the lease');
    assert.deepEqual(await claim('w2', t + 1_200), [], 'still leased after the heartbeat');
    const [taken] = await claim('w2', t + 1_600);
    assert.equal(taken.task_id, id);
    assert.equal(taken.attempts, 2);
    const old = fenceOf(mine, 'w1');
    assert.equal(await heartbeatJob(handle.store.db, old, t + 1_700, LEASE), false);
    assert.equal(await completeJob(handle.store.db, old, t + 1_700), false);
    assert.equal(await failJob(handle.store.db, old, 'x', t + 1_700), false);
    assert.equal(await retryJob(handle.store.db, old, t + 2_000, 'x', t + 1_700), false);
    assert.equal(await completeJob(handle.store.db, fenceOf(taken, 'w2'), t + 1_700), true);
    assert.equal((await job(id)).state, 'done');
    assert.deepEqual(await claim('w3', t + 100_000), [], 'a done job is never claimed again');
  });

  it('refuses to act on an expired lease even before anyone reclaims it', async () => {
    const t = 30_000;
    const id = await newJob(t);
    const [mine] = await claim('w1', t);
    assert.equal(await completeJob(handle.store.db, fenceOf(mine, 'w1'), t + LEASE), false);
    await handle.store.db.deleteFrom('jobs').where('task_id', '=', id).execute();
  });

  it('fences out a worker\'s own old run when the same worker claims the job again (CONTRACT §8.8)', async () => {
    const t = 35_000;
    const id = await newJob(t);
    const [first] = await claim('w1', t);
    // The store was out longer than the lease: w1 missed its heartbeats, and its next claim takes the same job back.
    const [second] = await claim('w1', t + LEASE + 1);
    assert.equal(second.task_id, id);
    assert.notEqual(second.lease_token, first.lease_token, 'every claim has a token of its own');
    const stale = fenceOf(first, 'w1');
    assert.equal(await heartbeatJob(handle.store.db, stale, t + LEASE + 2, LEASE), false);
    assert.equal(await completeJob(handle.store.db, stale, t + LEASE + 2), false);
    assert.equal(await retryJob(handle.store.db, stale, t + LEASE + 5, 'x', t + LEASE + 2), false);
    assert.equal(await completeJob(handle.store.db, fenceOf(second, 'w1'), t + LEASE + 2), true);
    await handle.store.db.deleteFrom('jobs').where('task_id', '=', id).execute();
  });

  it('retries at the given time and hands back unrun jobs without counting the attempt', async () => {
    const t = 40_000;
    const id = await newJob(t);
    const [first] = await claim('w1', t);
    assert.equal(await retryJob(handle.store.db, fenceOf(first, 'w1'), t + 5_000, 'boom', t + 10), true);
    const retried = await job(id);
    assert.deepEqual([retried.state, retried.run_at, retried.last_error, retried.lease_owner], ['queued', t + 5_000, 'boom', null]);
    assert.deepEqual(await claim('w1', t + 4_999), []);
    const [again] = await claim('w1', t + 5_000);
    assert.equal(again.attempts, 2);
    assert.equal(await returnJob(handle.store.db, fenceOf(again, 'w1'), t + 5_010), true);
    const returned = await job(id);
    assert.deepEqual([returned.state, returned.attempts, returned.run_at], ['queued', 1, t + 5_010]);
    const [third] = await claim('w2', t + 5_010);
    assert.equal(await failJob(handle.store.db, fenceOf(third, 'w2'), 'gave up', t + 5_020), true);
    assert.equal((await job(third.task_id)).state, 'failed');
  });
});

describe('retry backoff', () => {
  const policy = { baseMs: 1_000, maxMs: 30_000 };

  it('doubles per attempt between half and all of the ceiling, capped', () => {
    for (const [attempt, ceiling] of [[1, 1_000], [2, 2_000], [3, 4_000], [5, 16_000], [6, 30_000], [40, 30_000]] as const) {
      assert.equal(retryDelayMs(attempt, policy, () => 0), ceiling / 2);
      assert.equal(retryDelayMs(attempt, policy, () => 0.999_999), ceiling);
    }
  });

  it('spreads the delays of jobs failing together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(4, policy)));
    assert.ok(delays.size > 25, `only ${delays.size} distinct delays`);
    for (const delay of delays) assert.ok(delay >= 4_000 && delay <= 8_000);
  });
});

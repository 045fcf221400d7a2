import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { completeJob, enqueueJob, failJob } from '../../src/queue/jobs.ts';
import { type JobHandler, type Lease, LEASE_LOST, Worker } from '../../src/queue/worker.ts';
import { systemClock } from '../../src/util/clock.ts';
import { describeOnEachStore } from '../helpers/store.ts';
import { seedTask } from '../helpers/tasks.ts';

/** A job that runs until its signal aborts, then fails with the abort's reason. */
const untilAborted = (lease: Lease) => new Promise<void>((_, reject) => lease.signal.addEventListener('abort', () => reject(lease.signal.reason)));

type Recorder = { runs: { at: number; attempt: number }[]; gaveUp: unknown[]; aborted: unknown[] };

describeOnEachStore('worker', (handle) => {
  let n = 0;

  async function withWorker(
    run: (lease: Lease, rec: Recorder) => Promise<void>,
    test: (ctx: { worker: Worker; jobId: string; rec: Recorder }) => Promise<void>,
    options: { maxAttempts?: number; leaseMs?: number; before?: (jobId: string) => Promise<void> } = {},
  ): Promise<void> {
    const { store } = handle;
    const taskId = `task-unified-2-wrk${String(n++).padStart(5, '0')}`;
    await seedTask(store, taskId);
    await store.db.deleteFrom('jobs').execute(); // each test sees only its own job
    await enqueueJob(store.db, taskId, 'wan2.7-text-to-video', options.maxAttempts ?? 3, Date.now());
    const jobId = taskId;
    await options.before?.(jobId);
    const rec: Recorder = { runs: [], gaveUp: [], aborted: [] };
    const handler: JobHandler = {
      run: (lease) => {
        rec.runs.push({ at: Date.now(), attempt: lease.job.attempts });
        lease.signal.addEventListener('abort', () => rec.aborted.push(lease.signal.reason));
        return run(lease, rec);
      },
      async giveUp(lease, error) {
        rec.gaveUp.push(error);
        await store.write((trx) => failJob(trx, lease.fence, String(error), Date.now()));
      },
    };
    const worker = new Worker({
      store, clock: systemClock, handler, logger: pino({ level: 'silent' }), concurrency: 2,
      leaseMs: options.leaseMs ?? 600, pollMs: 20, backoff: { baseMs: 40, maxMs: 1_000 },
    });
    worker.start();
    try {
      await test({ worker, jobId, rec });
    } finally {
      await worker.stop(0);
    }
  }

  const jobState = (id: string) => handle.store.db.selectFrom('jobs').selectAll().where('task_id', '=', id).executeTakeFirstOrThrow();
  async function until(check: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await sleep(10);
    }
  }

  it('runs a job and lets the handler complete it', async () => {
    await withWorker(
      async (lease) => void (await handle.store.write((trx) => completeJob(trx, lease.fence, Date.now()))),
      async ({ jobId, rec }) => {
        await until(async () => (await jobState(jobId)).state === 'done');
        assert.equal(rec.runs.length, 1);
        assert.equal(rec.gaveUp.length, 0);
      },
    );
  });

  it('retries a failing job with growing delays, then gives up with the last error', async () => {
    await withWorker(
      async () => {
        throw new Error('flaky');
      },
      async ({ jobId, rec }) => {
        await until(async () => (await jobState(jobId)).state === 'failed');
        assert.deepEqual(rec.runs.map((r) => r.attempt), [1, 2, 3]);
        const gaps = [rec.runs[1].at - rec.runs[0].at, rec.runs[2].at - rec.runs[1].at];
        assert.ok(gaps[0] >= 20 && gaps[1] >= 40, `backoff gaps ${gaps}`);
        assert.equal(rec.gaveUp.length, 1);
        assert.match(String(rec.gaveUp[0]), /flaky/);
      },
    );
  });

  it('gives up at once on an error that says it is not retryable', async () => {
    await withWorker(
      async () => {
        throw Object.assign(new Error('bad input'), { retryable: false });
      },
      async ({ jobId, rec }) => {
        await until(async () => (await jobState(jobId)).state === 'failed');
        assert.equal(rec.runs.length, 1);
        assert.equal(rec.gaveUp.length, 1);
      },
    );
  });

  it('aborts a job whose lease another worker took, and writes nothing for it', async () => {
    await withWorker(
      untilAborted,
      async ({ jobId, rec }) => {
        await until(() => rec.runs.length === 1);
        await handle.store.db.updateTable('jobs').set({ lease_owner: 'someone-else' }).where('task_id', '=', jobId).execute();
        await until(() => rec.aborted.length === 1);
        assert.equal(rec.aborted[0], LEASE_LOST);
        await sleep(50);
        const job = await jobState(jobId);
        assert.deepEqual([job.state, job.lease_owner], ['running', 'someone-else']);
        assert.equal(rec.gaveUp.length, 0);
      },
      { leaseMs: 300 },
    );
  });

  it('hands a running job back at shutdown when the grace period ends', async () => {
    await withWorker(
      untilAborted,
      async ({ worker, jobId, rec }) => {
        await until(() => rec.runs.length === 1);
        await worker.stop(30);
        const job = await jobState(jobId);
        assert.deepEqual([job.state, job.attempts, job.lease_owner], ['queued', 0, null]);
      },
    );
  });

  it('lets a running job finish within the grace period', async () => {
    await withWorker(
      async (lease) => {
        await sleep(100);
        await handle.store.write((trx) => completeJob(trx, lease.fence, Date.now()));
      },
      async ({ worker, jobId, rec }) => {
        await until(() => rec.runs.length === 1);
        await worker.stop(5_000);
        assert.equal((await jobState(jobId)).state, 'done');
      },
    );
  });

  it('gives up on a job abandoned mid-run by as many workers as it has attempts', async () => {
    await withWorker(
      async () => assert.fail('must not run again'),
      async ({ jobId, rec }) => {
        await until(async () => (await jobState(jobId)).state === 'failed');
        assert.equal(rec.runs.length, 0);
        assert.match(String(rec.gaveUp[0]), /abandoned/);
      },
      {
        before: (jobId) =>
          handle.store.db.updateTable('jobs').set({ state: 'running', attempts: 3, lease_owner: 'crashed', lease_expires_at: 1 }).where('task_id', '=', jobId).execute().then(() => {}),
      },
    );
  });
});

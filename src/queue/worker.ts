import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';
import { PollLoop } from '../util/poll-loop.ts';
import { type BackoffPolicy, retryDelayMs } from './backoff.ts';
import { claimDueJobs, fenceOf, heartbeatJob, type JobRow, type LeaseFence, LeaseLostError, retryJob, returnJob } from './jobs.ts';

/** A claimed job as its handler sees it; `signal` aborts when the lease is lost or the worker must stop. */
export type Lease = { job: JobRow; fence: LeaseFence; signal: AbortSignal };

/** What a worker runs. `run` settles the job itself (completeJob in the transaction that ends its task). */
export type JobHandler = {
  run(lease: Lease): Promise<void>;
  /** Ends the job and its task for good after `error`; also fences on the lease. */
  giveUp(lease: Lease, error: unknown): Promise<void>;
};

export type WorkerOptions = {
  store: Store;
  clock: Clock;
  handler: JobHandler;
  logger: Logger;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  backoff: BackoffPolicy;
};

/** Why a running job's signal was aborted. */
export const LEASE_LOST = 'lease lost';
export const SHUTDOWN = 'worker shutting down';
export const CANCELLED = 'task cancelled';

/** Errors that say so are not worth another attempt; any other error is. */
export function isRetryable(error: unknown): boolean {
  return (error as { retryable?: boolean } | null)?.retryable !== false;
}

/** Claims due jobs up to its concurrency, heartbeats their leases, retries with backoff, stops gently. */
export class Worker {
  readonly id = `worker-${randomUUID()}`;
  private readonly options: WorkerOptions;
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly claims: PollLoop;

  constructor(options: WorkerOptions) {
    this.options = options;
    this.claims = new PollLoop(() => this.claimFreeSlots(), (err) => options.logger.error({ err }, 'claiming jobs failed'));
  }

  start(): void {
    this.claims.start(this.options.pollMs);
  }

  /** Looks for due jobs now (called when a job was just enqueued in this process). */
  notify(): void {
    this.claims.notify();
  }

  /** Stops claiming; running jobs get `graceMs` to finish, then are aborted and handed back. */
  async stop(graceMs: number): Promise<void> {
    await this.claims.stop(); // a claim in flight launches its jobs before we wait for them
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)));
    await Promise.race([all, graceOver]);
    clearTimeout(graceTimer);
    for (const { controller } of this.running.values()) controller.abort(SHUTDOWN);
    await all;
  }

  /** Stops a running job whose task was cancelled (its job row is already settled). */
  cancel(taskId: string): void {
    this.running.get(taskId)?.controller.abort(CANCELLED);
  }

  get busy(): number {
    return this.running.size;
  }

  /** Claims due jobs for the free slots; true when every slot was filled (more may be due). */
  private async claimFreeSlots(): Promise<boolean> {
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return false;
    const { store, clock, leaseMs } = this.options;
    const jobs = await store.write((trx) => claimDueJobs(trx, { workerId: this.id, limit: free, now: clock.now(), leaseMs }));
    for (const job of jobs) this.launch(job);
    return jobs.length === free;
  }

  private launch(job: JobRow): void {
    const controller = new AbortController();
    const lease: Lease = { job, fence: fenceOf(job, this.id), signal: controller.signal };
    const done = this.execute(lease, controller).finally(() => {
      this.running.delete(job.task_id);
      this.notify();
    });
    this.running.set(job.task_id, { controller, done });
  }

  private async execute(lease: Lease, controller: AbortController): Promise<void> {
    const { handler, logger } = this.options;
    const log = logger.child({ task: lease.job.task_id, attempt: lease.job.attempts });
    const heartbeat = this.keepLeaseAlive(lease, controller);
    try {
      if (lease.job.attempts > lease.job.max_attempts) {
        await handler.giveUp(lease, new Error(`abandoned by ${lease.job.attempts - 1} workers that stopped mid-run`));
      } else {
        await handler.run(lease);
      }
    } catch (error) {
      await this.settleFailure(lease, error, log).catch((err) => log.error({ err }, 'could not record the job failure'));
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async settleFailure(lease: Lease, error: unknown, log: Logger): Promise<void> {
    const { store, clock, handler, backoff } = this.options;
    const reason = lease.signal.aborted ? lease.signal.reason : null;
    if (reason === CANCELLED) return log.info('stopped: the task was cancelled');
    if (reason === LEASE_LOST || error instanceof LeaseLostError) return log.warn('lease lost: the job was cancelled or another worker owns it');
    if (reason === SHUTDOWN) {
      await store.write((trx) => returnJob(trx, lease.fence, clock.now()));
      return log.info('handed the job back at shutdown');
    }
    const { job } = lease;
    if (isRetryable(error) && job.attempts < job.max_attempts) {
      const now = clock.now();
      const runAt = now + retryDelayMs(job.attempts, backoff);
      log.warn({ err: error, retryInMs: runAt - now }, 'job failed; will retry');
      await store.write((trx) => retryJob(trx, lease.fence, runAt, String((error as Error)?.message ?? error), now));
      return;
    }
    log.warn({ err: error }, 'job failed for good');
    await handler.giveUp(lease, error);
  }

  private keepLeaseAlive(lease: Lease, controller: AbortController): NodeJS.Timeout {
    const { store, clock, leaseMs } = this.options;
    return setInterval(() => {
      store
        .write((trx) => heartbeatJob(trx, lease.fence, clock.now(), leaseMs))
        .then((held) => {
          if (!held) controller.abort(LEASE_LOST);
        })
        .catch(() => {}); // a missed heartbeat is retried at the next tick
    }, Math.max(50, Math.floor(leaseMs / 3)));
  }
}

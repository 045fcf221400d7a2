import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ObjectStore } from '../storage/index.ts';
import { TaskFailure } from '../contract/errors.ts';
import { isTerminal } from '../contract/task-view.ts';
import type { UpstreamHandle, UpstreamJob, UpstreamStatus } from '../engines/upstream.ts';
import { adoptJob, claimDuePolls, failWaitingJob, ownedUpstreamIds, readyToFetch, resubmitJob } from '../queue/channel-jobs.ts';
import type { JobRow } from '../queue/jobs.ts';
import type { Store } from '../store/db.ts';
import { loadRenderJob } from '../tasks/render-job.ts';
import type { TaskSettlement } from '../tasks/settlement.ts';
import { TaskReader } from '../tasks/task-store.ts';
import { markUncancellable, raiseProgress } from '../tasks/transitions.ts';
import { ENGINE_CATALOG } from '../engines/catalog.ts';
import type { Clock } from '../util/clock.ts';
import { PollLoop } from '../util/poll-loop.ts';
import { type Channel, upstreamModel } from './channel.ts';
import type { ChannelRouter } from './router.ts';

export type UpstreamPollerDeps = {
  store: Store;
  clock: Clock;
  router: ChannelRouter;
  settlement: TaskSettlement;
  /** Where the inputs are: a lost submit's lookup may need them (copied into `scratchDir`, removed after). */
  objects: ObjectStore;
  scratchDir: string;
  logger: Logger;
  /** A task ended here (failed upstream): drop its files, send its callback. */
  taskEnded(taskId: string): Promise<void>;
  /** A task's progress or status changed (committed): its event streams send it. */
  taskChanged?(taskId: string): void;
  /** A job is due for a worker (a result to fetch, a job to resubmit). */
  jobReady(): void;
  /** A job left a channel: parked jobs may fit now. */
  capacityFreed(): void;
};

// Waiting jobs one pass takes at most (a pass covers every job in flight on a channel).
const BATCH = 20_000;
// Progress shown while an upstream gives none: 90 · (1 − e^(−t/τ)), written in steps of 10.
const PROGRESS_TAU_MS = 120_000;

/**
 * Follows the jobs upstreams have accepted, one loop per channel: each pass hands every due job
 * to the engine at once (so it can batch and pace its queries), then acts on what changed.
 * Lost submits are looked up here too. Many processes may poll: transitions are guarded.
 */
export class UpstreamPoller {
  private readonly deps: UpstreamPollerDeps;
  private readonly reader: TaskReader;
  private readonly loops = new Map<string, { channel: Channel; loop: PollLoop }>();
  private readonly stopping = new AbortController();
  /** Tasks this process already marked uncancellable: one write per task, not one per poll. */
  private readonly marked = new Set<string>();

  constructor(deps: UpstreamPollerDeps) {
    this.deps = deps;
    this.reader = new TaskReader(deps.store);
    for (const channel of deps.router.channels) {
      if (!channel.upstream) continue;
      const loop = new PollLoop(() => this.pass(channel), (err) => deps.logger.error({ err, channel: channel.name }, 'polling the upstream failed'));
      this.loops.set(channel.name, { channel, loop });
    }
  }

  start(): void {
    for (const { channel, loop } of this.loops.values()) loop.start(Math.min(1000, channel.settings.poll_interval));
  }

  notify(channelName: string): void {
    this.loops.get(channelName)?.loop.notify();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.loops.values()].map(({ loop }) => loop.stop()));
  }

  private async pass(channel: Channel): Promise<boolean> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const interval = channel.settings.poll_interval;
    // Jobs due within half an interval come along: passes stay few and large, so engines can list instead of asking one by one.
    const jobs = await store.write((trx) => claimDuePolls(trx, channel.name, now + Math.floor(interval / 2), now + interval, BATCH));
    for (const job of jobs) if (job.phase === 'unknown') await this.resolveUnknown(channel, job);
    const accepted = jobs.filter((job) => job.phase === 'accepted' && job.upstream_id);
    if (accepted.length > 0) {
      const handles = new Map(accepted.map((job) => [job.task_id, handleOf(job)]));
      const unreported = new Set(handles.keys());
      const applying: Promise<void>[] = [];
      const report = (taskId: string, status: UpstreamStatus) => {
        const handle = handles.get(taskId);
        if (!handle || !unreported.delete(taskId)) return;
        applying.push(this.apply(channel, handle, status));
      };
      try {
        await channel.upstream!.poll([...handles.values()], report, this.stopping.signal);
      } finally {
        // Not reported is unavailable: it still times out (CONTRACT §8.7).
        for (const taskId of unreported) applying.push(this.apply(channel, handles.get(taskId)!, { state: 'unavailable' }));
        await Promise.all(applying);
      }
    }
    return jobs.length === BATCH;
  }

  private async apply(channel: Channel, handle: UpstreamHandle, status: UpstreamStatus): Promise<void> {
    const { store, clock, logger } = this.deps;
    const now = clock.now();
    const unfinished = status.state === 'queued' || status.state === 'running' || status.state === 'unrecognised' || status.state === 'unavailable';
    // Whatever the upstream says or fails to say (errors, a revoked key, a status we don't know), a job past the timeout ends.
    if (unfinished && now - handle.submittedAt > channel.settings.timeout) {
      await channel.upstream!.cancel(handle).catch(() => {}); // best effort; we stop waiting either way
      return this.fail(handle.taskId, new TaskFailure('generation_timeout', `the video was not ready within ${Math.round(channel.settings.timeout / 60_000)} minutes`));
    }
    switch (status.state) {
      case 'queued':
        return this.showProgress(channel, handle, status.progress, now);
      case 'running':
        if (!(status.cancellable ?? ENGINE_CATALOG[channel.settings.engine].cancelsRunning)) await this.markUncancellable(handle.taskId, now);
        return this.showProgress(channel, handle, status.progress, now);
      case 'succeeded':
        this.marked.delete(handle.taskId);
        if (await store.write((trx) => readyToFetch(trx, handle.taskId, JSON.stringify(status.result), now))) {
          this.deps.jobReady();
          this.deps.capacityFreed();
        }
        return;
      case 'failed':
        return this.fail(handle.taskId, status.failure);
      case 'cancelled':
        return this.fail(handle.taskId, new TaskFailure('service_error', 'the upstream service cancelled the job'));
      case 'lost':
        return this.fail(handle.taskId, new TaskFailure('service_error', 'the upstream service no longer knows the job'));
      case 'unrecognised':
        logger.warn({ task: handle.taskId, channel: channel.name, status: status.status }, 'unrecognised upstream status; asking again later');
        return;
      case 'unavailable':
        return;
    }
  }

  private async markUncancellable(taskId: string, now: number): Promise<void> {
    if (this.marked.has(taskId)) return;
    await this.deps.store.write((trx) => markUncancellable(trx, taskId, now));
    this.marked.add(taskId);
  }

  /** The engine's progress when it has one, else a curve in time; written only when it moves a step. */
  private async showProgress(channel: Channel, handle: UpstreamHandle, reported: number | undefined, now: number): Promise<void> {
    let progress = reported;
    if (progress === undefined) {
      const step = (t: number) => Math.floor((9 * (1 - Math.exp(-Math.max(0, t - handle.submittedAt) / PROGRESS_TAU_MS)))) * 10;
      progress = step(now);
      if (progress === step(now - channel.settings.poll_interval)) return;
    }
    if (progress <= 0) return;
    if (await this.deps.store.write((trx) => raiseProgress(trx, handle.taskId, Math.min(99, progress), now))) this.deps.taskChanged?.(handle.taskId);
  }

  /** A submit whose answer was lost: adopt the job if the upstream has it, resubmit if it surely does not. */
  private async resolveUnknown(channel: Channel, job: JobRow): Promise<void> {
    const { store, clock, logger } = this.deps;
    const task = await this.reader.findTask(job.task_id);
    if (!task || isTerminal(task.status)) return;
    const submitKey = job.submit_key ?? '';
    const scratch = path.join(this.deps.scratchDir, `lookup-${task.id}`);
    const sentAt = Number(job.submitted_at ?? job.created_at);
    let lookup;
    try {
      const upstreamJob = withInputUrls({ ...(await loadRenderJob(store.db, this.deps.objects, task, scratch)), upstreamModel: upstreamModel(channel, task.model), submitKey }, job.input_urls);
      lookup = await channel.upstream!.lookup(upstreamJob, { submitKey, sentAt, owned: (ids) => ownedUpstreamIds(store.db, ids), signal: this.stopping.signal });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    const now = clock.now();
    if (lookup.state === 'found') {
      const { upstreamId, ref } = lookup.accepted;
      if (await store.write((trx) => adoptJob(trx, job.task_id, { upstreamId, ref: ref ?? null }, now))) logger.info({ task: job.task_id, channel: channel.name }, 'found the lost submit upstream');
    } else if (lookup.state === 'absent') {
      const tried = job.tried_channels.split(',').filter((name) => name && name !== channel.name).join(',');
      if (await store.write((trx) => resubmitJob(trx, job.task_id, tried, now))) {
        logger.info({ task: job.task_id, channel: channel.name }, 'the lost submit never arrived; submitting again');
        this.deps.jobReady();
        this.deps.capacityFreed();
      }
    } else if (now - sentAt > channel.settings.timeout) {
      await this.fail(job.task_id, new TaskFailure('service_error', 'the upstream service never confirmed the job'));
    }
  }

  private async fail(taskId: string, failure: TaskFailure): Promise<void> {
    this.marked.delete(taskId);
    const { store, clock, settlement } = this.deps;
    const ended = await store.write(async (trx) => {
      const now = clock.now();
      if (!(await failWaitingJob(trx, taskId, failure.message, now))) return false;
      return (await settlement.fail(trx, taskId, failure.code, failure.message, now)) !== undefined;
    });
    if (ended) {
      this.deps.taskChanged?.(taskId);
      await this.deps.taskEnded(taskId);
    }
    this.deps.capacityFreed();
  }
}

/** The job with the input URLs its lost submit carried, so a lookup describes the same request. */
function withInputUrls(job: UpstreamJob, inputUrls: string | null): UpstreamJob {
  if (!inputUrls) return job;
  const urls = JSON.parse(inputUrls) as Record<string, string>;
  return { ...job, inputs: Object.fromEntries(Object.entries(job.inputs).map(([field, input]) => [field, { ...input, url: urls[field] ?? input.url }])) };
}

function handleOf(job: JobRow): UpstreamHandle {
  return { taskId: job.task_id, upstreamId: job.upstream_id!, ref: job.upstream_ref, submittedAt: Number(job.submitted_at ?? job.created_at) };
}

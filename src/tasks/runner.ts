import { mkdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Channel, upstreamModel } from '../channels/channel.ts';
import { recordChannelFailure, recordChannelSuccess } from '../channels/health.ts';
import type { ChannelRouter } from '../channels/router.ts';
import { TaskFailure } from '../contract/errors.ts';
import { SubmitError, type UpstreamResult } from '../engines/upstream.ts';
import { inputsPrefix } from '../media/ingest.ts';
import type { ObjectStore } from '../storage/index.ts';
import { demuxersFor, type ProcessCaps } from '../media/caps.ts';
import { ProbeError, runFfprobe, toMediaInfo } from '../media/probe.ts';
import type { ResultFiles } from '../media/results.ts';
import { acceptJob, markSubmitUnknown, recordInputUrls } from '../queue/channel-jobs.ts';
import { deliverInputs } from '../channels/input-delivery.ts';
import type { InputUrls } from '../channels/input-urls.ts';
import { completeJob, failJob, LeaseLostError } from '../queue/jobs.ts';
import type { JobHandler, Lease } from '../queue/worker.ts';
import type { Store } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';
import type { TaskHooks } from './hooks.ts';
import { loadRenderJob } from './render-job.ts';
import type { TaskSettlement } from './settlement.ts';
import { markProcessing, raiseProgress } from './transitions.ts';
import { TaskReader, type TaskRow } from './task-store.ts';

export type TaskRunnerDeps = {
  store: Store;
  clock: Clock;
  router: ChannelRouter;
  results: ResultFiles;
  settlement: TaskSettlement;
  hooks?: TaskHooks;
  /** Where the inputs are (CONTRACT §12); results go through `results`. */
  objects: ObjectStore;
  /** Each attempt works in `<workDir>/<task id>/attempt-<n>`, wiped before and after. */
  workDir: string;
  ffprobePath: string;
  mediaCaps: ProcessCaps;
  /** Signs input URLs for channels with `input_delivery: signed_url`. */
  inputUrls: InputUrls;
  /** Bounds on fetching an upstream's result home (CONTRACT §8.10). */
  resultLimits: { maxBytes: number; timeoutMs: number };
  logger: Logger;
  /** An upstream accepted a job on this channel (its poller may look sooner). */
  onAccepted?(channel: string): void;
};

// Progress is written at most this often; ffmpeg reports four times a second.
const PROGRESS_WRITE_MS = 1000;

/**
 * Runs a claimed task job through its phases: route it to a channel, then render it here (local)
 * or submit it upstream (and let the poller follow it), and once an upstream finished, fetch the
 * result home. The task completes, settled, in the transaction that ends the job.
 */
export class TaskRunner implements JobHandler {
  private readonly deps: TaskRunnerDeps;
  private readonly reader: TaskReader;

  constructor(deps: TaskRunnerDeps) {
    this.deps = deps;
    this.reader = new TaskReader(deps.store);
  }

  async run(lease: Lease): Promise<void> {
    const task = await this.reader.findTask(lease.job.task_id);
    if (!task) throw new TaskFailure('resource_not_found', 'the task is gone');
    if (task.status !== 'pending' && task.status !== 'processing') return this.finishJob(lease, task, null);
    switch (lease.job.phase) {
      case 'submitting': // a worker stopped mid-submit: the upstream may have the job
        return this.submitAnswerLost(lease, this.deps.router.get(lease.job.channel ?? '')?.settings.request_timeout ?? 0);
      case 'fetch':
        return this.fetch(lease, task, this.channelOf(lease));
      case 'render': { // a retry renders again where it ran
        const channel = lease.job.channel ? this.deps.router.get(lease.job.channel) : undefined;
        if (channel?.renderer) return this.render(lease, task, channel);
        return this.routeAndStart(lease, task);
      }
      default:
        return this.routeAndStart(lease, task);
    }
  }

  /** Tries channels in order until one takes the job; a retryable refusal moves on, never back. */
  private async routeAndStart(lease: Lease, task: TaskRow): Promise<void> {
    const { store, clock, router } = this.deps;
    const tried = lease.job.tried_channels ? lease.job.tried_channels.split(',') : [];
    let lastFailure: TaskFailure | null = null;
    for (;;) {
      const decision = await store.write((trx) => router.route(trx, lease.fence, task.model, tried, clock.now()));
      if (decision.kind === 'parked' || decision.kind === 'later') return;
      if (decision.kind === 'exhausted') throw lastFailure ?? new TaskFailure('service_unavailable', `no channel can run ${task.model} right now`);
      const { channel } = decision;
      tried.push(channel.name);
      if (channel.renderer) return this.render(lease, task, channel);
      try {
        return await this.submit(lease, task, channel, decision.submitKey!);
      } catch (error) {
        if (!(error instanceof SubmitError) || error.outcome !== 'retryable') throw error instanceof SubmitError ? error.failure : error;
        this.deps.logger.warn({ task: task.id, channel: channel.name, reason: error.message }, 'channel refused the job; trying the next');
        await store.write((trx) => recordChannelFailure(trx, channel.name, clock.now(), error.retryAfterMs));
        lastFailure = new TaskFailure(error.failure.code, error.failure.message); // final: no more channels to try
      }
    }
  }

  private async render(lease: Lease, task: TaskRow, channel: Channel): Promise<void> {
    const { store, clock, results } = this.deps;
    await store.write((trx) => markProcessing(trx, task.id, clock.now()));
    this.deps.hooks?.taskChanged?.(task.id, task.user_id);
    const workDir = await this.attemptDir(lease);
    try {
      const job = await loadRenderJob(store.db, this.deps.objects, task, path.join(workDir, 'inputs'));
      const { file, billedSeconds } = await channel.renderer!.render(job, { workDir, signal: lease.signal, onProgress: this.progressWriter(task) });
      const stored = await results.publish(file, task.id);
      await this.finishJob(lease, task, { ...stored, billedSeconds: billedSeconds ?? task.billed_seconds });
    } finally {
      await this.leaveAttemptDir(lease, workDir);
    }
  }

  private async submit(lease: Lease, task: TaskRow, channel: Channel, submitKey: string): Promise<void> {
    const { store, clock } = this.deps;
    await store.write((trx) => markProcessing(trx, task.id, clock.now()));
    this.deps.hooks?.taskChanged?.(task.id, task.user_id);
    const inputs = path.join(this.taskWorkDir(task.id), 'inputs');
    const stored = { ...(await loadRenderJob(store.db, this.deps.objects, task, inputs)), upstreamModel: upstreamModel(channel, task.model), submitKey };
    const job = await deliverInputs(stored, channel, this.deps.inputUrls, clock.now(), lease.signal);
    if (job !== stored) {
      const urls = Object.fromEntries(Object.values(job.inputs).map((input) => [input.field, input.url]));
      await store.write(async (trx) => {
        if (!(await recordInputUrls(trx, lease.fence, urls, clock.now()))) throw new LeaseLostError(task.id);
      });
    }
    let accepted;
    try {
      accepted = await channel.upstream!.submit(job, lease.signal);
    } catch (error) {
      if (error instanceof SubmitError && error.outcome !== 'answer_lost') throw error;
      this.deps.logger.warn({ task: task.id, channel: channel.name, err: error }, 'submit got no answer; the job will be looked up');
      return this.submitAnswerLost(lease, channel.settings.request_timeout);
    }
    await store.write(async (trx) => {
      const now = clock.now();
      const pollAt = now + channel.settings.poll_interval;
      if (!(await acceptJob(trx, lease.fence, { upstreamId: accepted.upstreamId, ref: accepted.ref ?? null }, pollAt, now))) throw new LeaseLostError(task.id);
      await recordChannelSuccess(trx, channel.name, now);
    });
    this.deps.onAccepted?.(channel.name);
  }

  /** Leaves the job unknown for the poller to look up, first after `delayMs` (the upstream may still be registering it). */
  private async submitAnswerLost(lease: Lease, delayMs: number): Promise<void> {
    const { store, clock } = this.deps;
    await store.write(async (trx) => {
      const now = clock.now();
      if (!(await markSubmitUnknown(trx, lease.fence, now + delayMs, now))) throw new LeaseLostError(lease.job.task_id);
    });
  }

  /** Streams the upstream's result home, checks it is a video, publishes it and completes the task. */
  private async fetch(lease: Lease, task: TaskRow, channel: Channel): Promise<void> {
    const { results } = this.deps;
    const result = JSON.parse(lease.job.upstream_result ?? 'null') as UpstreamResult | null;
    if (!result) throw new TaskFailure('service_error', 'the upstream reported no result');
    const workDir = await this.attemptDir(lease);
    try {
      const file = path.join(workDir, 'result.mp4');
      await this.download(channel, result, file, lease.signal);
      await this.checkVideo(file);
      const stored = await results.publish(file, task.id);
      await this.finishJob(lease, task, { ...stored, billedSeconds: result.billedSeconds ?? task.billed_seconds });
    } finally {
      await this.leaveAttemptDir(lease, workDir);
    }
  }

  /** The whole download within its deadline: past it the task fails (released), like an oversized result. */
  private async download(channel: Channel, result: UpstreamResult, file: string, jobSignal: AbortSignal): Promise<void> {
    const { maxBytes, timeoutMs } = this.deps.resultLimits;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      await channel.upstream!.download(result, file, { signal: AbortSignal.any([jobSignal, deadline]), maxBytes });
    } catch (error) {
      if (deadline.aborted && !jobSignal.aborted) throw new TaskFailure('service_error', `the result did not arrive within ${Math.round(timeoutMs / 1000)} s`);
      throw error;
    }
  }

  private async checkVideo(file: string): Promise<void> {
    try {
      const info = toMediaInfo(await runFfprobe(this.deps.ffprobePath, file, { caps: this.deps.mediaCaps, formats: demuxersFor(['mp4', 'mov']) }), (await stat(file)).size);
      if (info.hasVideo) return;
    } catch (error) {
      if (!(error instanceof ProbeError)) throw error;
    }
    throw new TaskFailure('generation_failed_no_content', 'the upstream returned no playable video');
  }

  private channelOf(lease: Lease): Channel {
    const channel = lease.job.channel ? this.deps.router.get(lease.job.channel) : undefined;
    if (!channel?.upstream) throw new TaskFailure('service_unavailable', 'the channel that ran this task is no longer configured');
    return channel;
  }

  /** A private folder for this attempt; a stale attempt that lost its lease can't touch ours. */
  private async attemptDir(lease: Lease): Promise<string> {
    await rm(this.taskWorkDir(lease.job.task_id), { recursive: true, force: true }); // crashed attempts' leftovers
    const dir = path.join(this.taskWorkDir(lease.job.task_id), `attempt-${lease.job.attempts}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  private async leaveAttemptDir(lease: Lease, dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    await rmdir(this.taskWorkDir(lease.job.task_id)).catch(() => {}); // only if no other attempt is in it
  }

  private taskWorkDir(taskId: string): string {
    return path.join(this.deps.workDir, taskId);
  }

  async giveUp(lease: Lease, error: unknown): Promise<void> {
    const { store, clock, settlement } = this.deps;
    const failure = asTaskFailure(error, lease.job.attempts);
    await store.write(async (trx) => {
      const now = clock.now();
      if (!(await failJob(trx, lease.fence, failure.message, now))) throw new LeaseLostError(lease.job.task_id);
      await settlement.fail(trx, lease.job.task_id, failure.code, failure.message, now);
    });
    this.deps.hooks?.taskEnded?.();
    this.deps.hooks?.taskChanged?.(lease.job.task_id);
    await this.dropFiles(lease.job.task_id);
  }

  /** Completes the job and, with a result, the task (settled), in one transaction fenced by the lease. */
  private async finishJob(lease: Lease, task: TaskRow, result: { path: string; url: string | null; billedSeconds: number } | null): Promise<void> {
    const { store, clock, results, settlement } = this.deps;
    let completed = false;
    try {
      await store.write(async (trx) => {
        const now = clock.now();
        if (!(await completeJob(trx, lease.fence, now))) throw new LeaseLostError(lease.job.task_id);
        if (result) completed = (await settlement.complete(trx, task, result, now)) !== undefined;
      });
    } catch (error) {
      if (result) await results.remove(result.path);
      throw error;
    }
    if (result && !completed) await results.remove(result.path); // the task ended some other way meanwhile
    if (completed) {
      this.deps.hooks?.taskEnded?.();
      this.deps.hooks?.taskChanged?.(task.id, task.user_id);
    }
    await this.dropFiles(task.id);
  }

  /** The task's inputs and work files are no longer needed once it is terminal. */
  async dropFiles(taskId: string): Promise<void> {
    await this.deps.objects.deletePrefix(inputsPrefix(taskId)).catch((err: unknown) => this.deps.logger.warn({ task: taskId, err }, 'could not delete the inputs; the sweeper will'));
    await rm(this.taskWorkDir(taskId), { recursive: true, force: true });
  }

  /** Turns an engine's fraction into progress 1–99, written now and then, one write at a time. */
  private progressWriter(task: TaskRow): (fraction: number) => void {
    const { store, clock, logger, hooks } = this.deps;
    const taskId = task.id;
    let written = 0;
    let lastWriteAt = 0;
    let writing = false;
    return (fraction) => {
      const progress = Math.min(99, 1 + Math.floor(fraction * 98));
      const now = clock.now();
      if (writing || progress <= written || now - lastWriteAt < PROGRESS_WRITE_MS) return;
      writing = true;
      lastWriteAt = now;
      store
        .write((trx) => raiseProgress(trx, taskId, progress, now))
        .then(() => {
          written = progress;
          hooks?.taskChanged?.(taskId, task.user_id);
        })
        .catch((err) => logger.warn({ err, task: taskId }, 'could not record progress'))
        .finally(() => (writing = false));
    };
  }
}

/** What the client is told: the engine's own failure, or a plain service error (no internals). */
function asTaskFailure(error: unknown, attempts: number): TaskFailure {
  if (error instanceof TaskFailure) return error;
  return new TaskFailure('service_error', `the video could not be made after ${attempts} attempt${attempts === 1 ? '' : 's'}`);
}

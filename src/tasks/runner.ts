import { mkdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { TaskFailure } from '../contract/errors.ts';
import type { Quality } from '../contract/output-size.ts';
import type { Engine, RenderInput, RenderJob } from '../engines/engine.ts';
import { inputFolder } from '../media/ingest.ts';
import type { ResultFiles } from '../media/results.ts';
import { completeJob, failJob, LeaseLostError } from '../queue/jobs.ts';
import type { JobHandler, Lease } from '../queue/worker.ts';
import type { Store } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';
import type { TaskHooks } from './hooks.ts';
import type { TaskSettlement } from './settlement.ts';
import { markProcessing, raiseProgress } from './transitions.ts';
import { TaskReader, type TaskRow } from './task-store.ts';

export type TaskRunnerDeps = {
  store: Store;
  clock: Clock;
  engines: ReadonlyMap<string, Engine>;
  results: ResultFiles;
  settlement: TaskSettlement;
  hooks?: TaskHooks;
  inputsDir: string;
  /** Each attempt renders in `<workDir>/<task id>/attempt-<n>`, wiped before and after. */
  workDir: string;
  logger: Logger;
};

// Progress is written at most this often; ffmpeg reports four times a second.
const PROGRESS_WRITE_MS = 500;

/** Runs a claimed task job: the engine renders, the result is published, the task completes. */
export class TaskRunner implements JobHandler {
  private readonly deps: TaskRunnerDeps;
  private readonly reader: TaskReader;

  constructor(deps: TaskRunnerDeps) {
    this.deps = deps;
    this.reader = new TaskReader(deps.store.db);
  }

  async run(lease: Lease): Promise<void> {
    const { store, clock, engines, results } = this.deps;
    const task = await this.reader.findTask(lease.job.task_id);
    if (!task) throw new TaskFailure('resource_not_found', 'the task is gone');
    if (task.status !== 'pending' && task.status !== 'processing') return this.finishJob(lease, task, null);
    await store.write((trx) => markProcessing(trx, task.id, clock.now()));
    const engine = engines.get(task.engine);
    if (!engine) throw new TaskFailure('service_unavailable', `no engine "${task.engine}" is configured here`);
    // Each attempt has its own folder, so a stale attempt that lost its lease can't touch ours.
    await rm(this.taskWorkDir(task.id), { recursive: true, force: true }); // crashed attempts' leftovers
    const workDir = path.join(this.taskWorkDir(task.id), `attempt-${lease.job.attempts}`);
    await mkdir(workDir, { recursive: true });
    try {
      const job = await this.renderJob(task);
      const { file, billedSeconds } = await engine.render(job, { workDir, signal: lease.signal, onProgress: this.progressWriter(task.id) });
      const stored = await results.publish(file, task.id);
      await this.finishJob(lease, task, { path: stored, billedSeconds: billedSeconds ?? task.billed_seconds });
    } finally {
      await rm(workDir, { recursive: true, force: true });
      await rmdir(this.taskWorkDir(task.id)).catch(() => {}); // only if no other attempt is in it
    }
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
    await this.dropFiles(lease.job.task_id);
  }

  /** Completes the job and, with a result, the task (settled), in one transaction fenced by the lease. */
  private async finishJob(lease: Lease, task: TaskRow, result: { path: string; billedSeconds: number } | null): Promise<void> {
    const { store, clock, results, settlement } = this.deps;
    let completed = false;
    try {
      await store.write(async (trx) => {
        const now = clock.now();
        if (!(await completeJob(trx, lease.fence, now))) throw new LeaseLostError(lease.job.task_id);
        if (result) completed = (await settlement.complete(trx, task, result.path, result.billedSeconds, now)) !== undefined;
      });
    } catch (error) {
      if (result) await results.remove(result.path);
      throw error;
    }
    if (result && !completed) await results.remove(result.path); // the task ended some other way meanwhile
    if (completed) this.deps.hooks?.taskEnded?.();
    await this.dropFiles(task.id);
  }

  /** The task's inputs are no longer needed once it is terminal. */
  private async dropFiles(taskId: string): Promise<void> {
    await rm(inputFolder(this.deps.inputsDir, taskId), { recursive: true, force: true });
    await rm(this.taskWorkDir(taskId), { recursive: true, force: true });
  }

  private async renderJob(task: TaskRow): Promise<RenderJob> {
    const rows = await this.deps.store.db.selectFrom('task_inputs').selectAll().where('task_id', '=', task.id).execute();
    const inputs: Record<string, RenderInput> = {};
    for (const row of rows) {
      inputs[row.field] = {
        field: row.field,
        kind: row.kind,
        path: row.path,
        width: row.width,
        height: row.height,
        durationSec: row.duration_ms === null ? null : row.duration_ms / 1000,
        hasAudio: row.has_audio === 1,
      };
    }
    return {
      taskId: task.id,
      model: task.model,
      quality: task.quality as Quality,
      seed: task.seed,
      params: JSON.parse(task.params_json),
      output: { width: task.output_width, height: task.output_height, fps: task.output_fps, durationSec: task.output_duration_ms / 1000 },
      inputs,
    };
  }

  /** Turns an engine's fraction into progress 1–99, written now and then, one write at a time. */
  private progressWriter(taskId: string): (fraction: number) => void {
    const { store, clock, logger } = this.deps;
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
        .then(() => (written = progress))
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

import { randomInt } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../auth/accounts.ts';
import { checkAdmission, reserveCredits } from '../billing/ledger.ts';
import type { PriceBook } from '../billing/price-book.ts';
import { checkCallbackUrl } from '../callbacks/destination.ts';
import { ApiError } from '../contract/errors.ts';
import { MAX_SEED } from '../contract/fields.ts';
import { newTaskId, TASK_ID_PATTERN } from '../contract/ids.ts';
import type { MediaInfo } from '../contract/media-limits.ts';
import type { ModelSpec, NormalizedRequest, TaskPlan } from '../contract/model-spec.ts';
import { type GenerationRequest, modelSpec } from '../contract/models/index.ts';
import { isTerminal, type TaskView, toTaskView } from '../contract/task-view.ts';
import { type IngestDeps, type IngestedMedium, ingestMedia, inputsPrefix } from '../media/ingest.ts';
import type { Store } from '../store/db.ts';
import { type Channel, estimateSeconds } from '../channels/channel.ts';
import type { ChannelRouter } from '../channels/router.ts';
import { ResultFiles } from '../media/results.ts';
import type { Clock } from '../util/clock.ts';
import { RenderTimes } from './eta.ts';
import type { TaskHooks } from './hooks.ts';
import { claimIdempotencyKey, findIdempotentTask, IdempotencyRace, type IdempotentRequest } from './idempotency.ts';
import type { TaskSettlement } from './settlement.ts';
import { TaskCreates } from './create-batch.ts';
import { insertTask, TaskReader, type TaskRow, type TaskViewRow, viewSource } from './task-store.ts';

export type TaskServiceDeps = {
  store: Store;
  clock: Clock;
  prices: PriceBook;
  ingest: IngestDeps;
  results: ResultFiles;
  settlement: TaskSettlement;
  resultTtlMs: number;
  /** The channels tasks run on: create answers 503 when none can take the model. */
  router: ChannelRouter;
  maxAttempts: number;
  /** Unfinished tasks a key may have at once unless it has its own limit; 0 = no limit. */
  maxUnfinishedTasks: number;
  hooks?: TaskHooks;
};

/** A page of a caller's tasks (beyond the hosted service: GET /v1/tasks). */
export type TaskList = { object: 'list'; data: TaskView[]; has_more: boolean; last_id: string | null };

/** The answer to a cancel (CONTRACT §4). */
/** What a create would reserve and how long it would take (POST /v1/videos/generations/estimate). */
export type CostEstimate = {
  object: 'task.estimate';
  model: string;
  quality: string;
  billing_rule: string;
  /** Seconds billed: the output's length, or 1 for a per-call model. */
  billed_seconds: number;
  video_duration: number;
  /** What create would reserve now, at the live prices. */
  credits: number;
  estimated_time: number;
};

export type CancelledTask = { id: string; object: 'task.cancelled'; status: 'cancelled'; message: string };

/** Creating, reading and cancelling tasks; knows nothing of HTTP. */
export class TaskService {
  private readonly deps: TaskServiceDeps;
  private readonly reader: TaskReader;
  private readonly renderTimes: RenderTimes;
  /** Creates without an Idempotency-Key, committed in batches. */
  private readonly creates: TaskCreates;

  constructor(deps: TaskServiceDeps) {
    this.deps = deps;
    this.creates = new TaskCreates(deps.store, deps.maxAttempts);
    this.reader = new TaskReader(deps.store);
    this.renderTimes = new RenderTimes(deps.store.db, deps.clock);
  }

  /**
   * Validates, fetches and probes the media, quotes, and stores a pending task with its credits
   * reserved. With an Idempotency-Key, a repeat of the same body answers the task it made.
   */
  async create(caller: Caller, body: GenerationRequest, idempotency?: IdempotentRequest): Promise<TaskView> {
    const { store, clock, ingest } = this.deps;
    const { spec, request } = this.normalized(caller, body);
    if (idempotency) {
      const replay = await this.replay(caller, idempotency);
      if (replay) return replay;
    }
    const channel = await this.deps.router.firstChoice(request.model); // after a replay: the task it made stands whatever the channels do now
    try {
      // Before any outbound request (DNS for the callback, media fetches); with neither, the reservation refuses the same way, one statement later.
      if (request.media.length > 0 || request.callback_url) await this.admit(caller, spec, request);
    } catch (error) {
      // A repeat whose first request committed meanwhile (spending the credits) answers that task, as a replay does.
      const replay = idempotency ? await this.replay(caller, idempotency) : null;
      if (replay) return replay;
      throw error;
    }
    if (request.callback_url) await checkCallbackUrl(ingest.guard, request.callback_url);

    const now = clock.now();
    const id = newTaskId(now);
    const media = await ingestMedia(ingest, id, request.media);
    try {
      const plan = spec.plan(request, Object.fromEntries(media.map((m) => [m.field, m.info])) as Record<string, MediaInfo>);
      const row = await this.taskRow(caller, id, request, plan, channel, now);
      const inputs = media.map((m) => inputRow(id, m));
      const reservation = { ...row, unlimited: caller.unlimited, maxUnfinished: caller.maxUnfinished ?? this.deps.maxUnfinishedTasks, now };
      if (idempotency) {
        await store.write(async (trx) => {
          await insertTask(trx, row, inputs, this.deps.maxAttempts);
          // The key first: a repeat that lost the race replays the winner, even when credits would not cover it twice.
          if (!(await claimIdempotencyKey(trx, caller.userId, idempotency, id, now))) throw new IdempotencyRace();
          await reserveCredits(trx, reservation);
        });
      } else {
        await this.creates.add({ task: row, inputs, reservation });
      }
      this.deps.hooks?.jobQueued?.();
      this.deps.hooks?.taskChanged?.(row.id, row.user_id);
      return this.view(row);
    } catch (error) {
      if (media.length > 0) await ingest.objects.deletePrefix(inputsPrefix(id)).catch(() => {}); // else the orphan sweep takes them
      if (error instanceof IdempotencyRace && idempotency) {
        const replay = await this.replay(caller, idempotency);
        if (replay) return replay;
      }
      throw error;
    }
  }

  /**
   * What creating this body would reserve, and the estimate, without creating: the media are
   * fetched and probed as create does (a video's length sets the bill), then dropped.
   */
  async estimate(caller: Caller, body: GenerationRequest): Promise<CostEstimate> {
    const { spec, request } = this.normalized(caller, body);
    const channel = await this.deps.router.firstChoice(request.model);
    const now = this.deps.clock.now();
    const id = newTaskId(now);
    const media = await ingestMedia(this.deps.ingest, id, request.media);
    try {
      const plan = spec.plan(request, Object.fromEntries(media.map((m) => [m.field, m.info])) as Record<string, MediaInfo>);
      const row = await this.taskRow(caller, id, request, plan, channel, now);
      return {
        object: 'task.estimate', model: row.model, quality: row.quality, billing_rule: row.billing_rule, billed_seconds: row.billed_seconds,
        video_duration: row.video_duration, credits: row.credits_reserved_micro / 1_000_000, estimated_time: row.estimated_time,
      };
    } finally {
      if (media.length > 0) await this.deps.ingest.objects.deletePrefix(inputsPrefix(id)).catch(() => {}); // else the orphan sweep takes them
    }
  }

  /** The request as its model reads it, once the key may use the model. */
  private normalized(caller: Caller, body: GenerationRequest): { spec: ModelSpec; request: NormalizedRequest } {
    if (caller.allowedModels && !caller.allowedModels.has(body.model)) {
      throw new ApiError('model_access_denied', `model: this key may not use ${body.model}`, { param: 'model' });
    }
    const spec = modelSpec(body.model);
    return { spec, request: spec.normalize(body as never) };
  }

  /**
   * 402/429 before any work when the key could not pay even the model's smallest quote: the
   * exact one when the request names no media, else one second's (CONTRACT §8.1).
   */
  private async admit(caller: Caller, spec: ModelSpec, request: NormalizedRequest): Promise<void> {
    const seconds = request.media.length === 0 ? spec.plan(request, {}).billed_seconds : 1;
    const minimum = this.deps.prices.quote(request.model, request.quality, seconds).micro;
    await checkAdmission(this.deps.store.db, {
      id: '', user_id: caller.userId, key_id: caller.keyId, credits_reserved_micro: minimum, unlimited: caller.unlimited,
      maxUnfinished: caller.maxUnfinished ?? this.deps.maxUnfinishedTasks, now: this.deps.clock.now(),
    }, request.media.length > 0);
  }

  /** The caller's task; 400 for a malformed id, 404 for another user's or a missing task. */
  async get(caller: Caller, taskId: string): Promise<TaskView> {
    return this.view(await this.owned(caller, taskId, 'task_id', (userId) => this.reader.findUserTaskView(userId, taskId)));
  }

  /** The caller's tasks, newest first, a page at a time: `before` is the last id of the previous page. */
  async list(caller: Caller, options: { limit: number; before?: string; status?: TaskRow['status'] }): Promise<TaskList> {
    const before = options.before === undefined ? undefined : await this.ownTask(caller, options.before, 'before');
    const rows = await this.reader.listUserTasks(caller.userId, { limit: options.limit + 1, before, status: options.status });
    const page = rows.slice(0, options.limit);
    return { object: 'list', data: page.map((row) => this.view(row)), has_more: rows.length > options.limit, last_id: page.at(-1)?.id ?? null };
  }

  /** Cancels the caller's unfinished task: its job stops, its credits go back, its callback is sent; 400 once it has ended. */
  async cancel(caller: Caller, taskId: string): Promise<CancelledTask> {
    const { store, clock, settlement, ingest, hooks } = this.deps;
    const task = await this.ownTask(caller, taskId);
    const cancelled = await store.write((trx) => settlement.cancel(trx, task.id, clock.now()));
    if (!cancelled) {
      const now = (await this.reader.findTask(task.id)) ?? task;
      const why = isTerminal(now.status) ? `is ${now.status}` : 'is already being made upstream, which cannot stop it; it will finish and be charged,';
      throw new ApiError('invalid_request', `task_id: the task ${why} and can no longer be cancelled`, { param: 'task_id' });
    }
    hooks?.taskCancelled?.(task.id);
    hooks?.taskEnded?.();
    hooks?.taskChanged?.(task.id, task.user_id);
    await ingest.objects.deletePrefix(inputsPrefix(task.id)).catch(() => {}); // else the sweeper takes them with the task
    return { id: task.id, object: 'task.cancelled', status: 'cancelled', message: 'The task was cancelled and its credits released.' };
  }

  /** When the result named `name` expires (unix ms), or null when it may not be served (unknown, not completed, expired). */
  async servableResult(name: string): Promise<number | null> {
    const taskId = ResultFiles.taskIdOf(name);
    if (!taskId) return null;
    const row = await this.reader.findTask(taskId);
    if (!row || row.status !== 'completed' || row.result_path !== `results/${name}` || row.swept_at !== null) return null;
    const expires = (row.finished_at ?? 0) + this.deps.resultTtlMs;
    return this.deps.clock.now() < expires ? expires : null;
  }

  /** Answers a result download: the bytes, or a redirect to the storage, as VIDGATE_RESULT_URLS says. */
  async serveResult(request: FastifyRequest, reply: FastifyReply, name: string) {
    const expires = await this.servableResult(name);
    if (expires === null) throw new ApiError('not_found', 'this result does not exist or has expired');
    return this.deps.results.serve(request, reply, name, expires, this.deps.clock.now());
  }

  /** The caller's task row; 400 for a malformed id, 404 for another user's or a missing task. */
  ownTask(caller: Caller, taskId: string, field = 'task_id'): Promise<TaskRow> {
    return this.owned(caller, taskId, field, (userId) => this.reader.findUserTask(userId, taskId));
  }

  /** What `read` finds of the caller's task `taskId` (`field` names it in errors): 400 for a malformed id, 404 when it finds nothing. */
  private async owned<Row>(caller: Caller, taskId: string, field: string, read: (userId: string) => Promise<Row | undefined>): Promise<Row> {
    if (!TASK_ID_PATTERN.test(taskId)) {
      throw new ApiError('invalid_task_id', `${field}: "${taskId.slice(0, 80)}" is not a task id (task-unified-…)`, { param: field });
    }
    const row = await read(caller.userId);
    if (!row) throw new ApiError('task_not_found', `${field}: no task ${taskId}`, { param: field });
    return row;
  }

  /** The task an Idempotency-Key already made, as it is now; null when the key is new. */
  private async replay(caller: Caller, idempotency: IdempotentRequest): Promise<TaskView | null> {
    const taskId = await findIdempotentTask(this.deps.store.db, caller.userId, idempotency, this.deps.clock.now());
    const row = taskId ? await this.reader.findTask(taskId) : undefined;
    return row ? this.view(row) : null;
  }

  private async taskRow(caller: Caller, id: string, request: NormalizedRequest, plan: TaskPlan, channel: Channel, now: number): Promise<TaskRow> {
    const { prices } = this.deps;
    const quote = prices.quote(request.model, request.quality, plan.billed_seconds);
    const prior = estimateSeconds(channel, { model: request.model, quality: request.quality, output: { ...plan.output, durationSec: plan.output.duration_sec } });
    const estimate = await this.renderTimes.estimateSeconds({ model: request.model, engine: channel.name, quality: request.quality }, plan.video_duration, prior);
    return {
      id,
      user_id: caller.userId,
      key_id: caller.keyId,
      model: request.model,
      status: 'pending',
      progress: 0,
      quality: request.quality,
      seed: request.seed ?? randomInt(1, MAX_SEED + 1),
      params_json: JSON.stringify(request.params),
      callback_url: request.callback_url ?? null,
      output_width: plan.output.width,
      output_height: plan.output.height,
      output_fps: plan.output.fps,
      output_duration_ms: Math.round(plan.output.duration_sec * 1000),
      video_duration: plan.video_duration,
      billed_seconds: plan.billed_seconds,
      billing_rule: quote.rule,
      credits_reserved_micro: quote.micro,
      credits_charged_micro: null,
      user_group: caller.userGroup,
      estimated_time: estimate,
      error_code: null,
      error_message: null,
      result_path: null,
      created_at: now,
      updated_at: now,
      finished_at: null,
      engine: channel.name,
      started_at: null,
      swept_at: null,
      can_cancel: 1,
      price_version: quote.version,
      result_url: null,
    };
  }

  private view(row: TaskViewRow): TaskView {
    return toTaskView(viewSource(row, this.deps.results, this.deps.clock.now()));
  }
}

function inputRow(taskId: string, medium: IngestedMedium) {
  const { info } = medium;
  return {
    task_id: taskId,
    field: medium.field,
    kind: medium.limits.kind,
    url: medium.url,
    path: medium.path,
    container: info.container,
    bytes: info.bytes,
    width: info.width ?? null,
    height: info.height ?? null,
    duration_ms: info.durationSec === undefined ? null : Math.round(info.durationSec * 1000),
    fps: info.fps ?? null,
    has_audio: info.hasAudio ? 1 : 0,
  };
}

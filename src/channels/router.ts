import type { Kysely } from 'kysely';
import { ApiError } from '../contract/errors.ts';
import { countInFlight, parkJob, routeJob } from '../queue/channel-jobs.ts';
import { type LeaseFence, returnJob } from '../queue/jobs.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';
import { type Channel, servesModel } from './channel.ts';
import { lockChannelRows, restingChannels, takeSubmitSlot } from './health.ts';

type Q = Kysely<Database>;

/** Where a job goes: a channel (with the key of this submission), parked, back later, or nowhere left to try. */
export type RouteDecision =
  | { kind: 'routed'; channel: Channel; submitKey: string | null }
  | { kind: 'parked' }
  | { kind: 'later'; inMs: number }
  | { kind: 'exhausted' };

const RESTING_CACHE_MS = 1000;

/**
 * Picks channels: the highest priority first, by weight among equals, skipping channels already
 * tried, resting after failures, full, or over their submit rate. A full channel parks the job
 * instead of failing it.
 */
export class ChannelRouter {
  readonly channels: readonly Channel[];
  private readonly byName: Map<string, Channel>;
  private readonly store: Store;
  private readonly clock: Clock;
  private resting: { at: number; names: Map<string, number> } = { at: -Infinity, names: new Map() };

  constructor(channels: Channel[], store: Store, clock: Clock) {
    this.channels = [...channels].sort((a, b) => b.settings.priority - a.settings.priority);
    this.byName = new Map(channels.map((c) => [c.name, c]));
    this.store = store;
    this.clock = clock;
  }

  /** Reads the resting channels afresh at the next create (after a pause or resume in this process; others see it within a second). */
  forgetResting(): void {
    this.resting = { at: -Infinity, names: new Map() };
  }

  get(name: string): Channel | undefined {
    return this.byName.get(name);
  }

  /** Channels serving the model, highest priority first. */
  candidates(model: string): Channel[] {
    return this.channels.filter((c) => servesModel(c, model));
  }

  /** At create: the channel a new task will most likely run on; 503 when none serves the model or all rest. */
  async firstChoice(model: string): Promise<Channel> {
    const candidates = this.candidates(model);
    if (candidates.length === 0) throw new ApiError('service_unavailable', `model: no channel serves ${model} here`, { param: 'model' });
    const resting = await this.restingNow();
    const awake = candidates.find((c) => !resting.has(c.name));
    if (!awake) throw new ApiError('service_unavailable', `model: every channel serving ${model} is failing right now; try again shortly`, { param: 'model' });
    return awake;
  }

  /** Routes a leased job, in the caller's transaction: records the channel (or parks or delays the job). */
  async route(q: Q, lease: LeaseFence, model: string, tried: readonly string[], now: number): Promise<RouteDecision> {
    const limited = this.candidates(model).filter((c) => c.upstream && c.settings.max_concurrency > 0 && !tried.includes(c.name));
    await lockChannelRows(q, limited.map((c) => c.name), now);
    const resting = await restingChannels(q, now);
    let soonest = Infinity;
    let waiting = false;
    for (const channel of this.ordered(model)) {
      if (tried.includes(channel.name)) continue;
      if (resting.has(channel.name) || (await this.isFull(q, channel))) {
        waiting = true;
        continue;
      }
      const waitMs = channel.upstream ? await takeSubmitSlot(q, channel.name, channel.settings.submit_per_second, now) : 0;
      if (waitMs > 0) {
        soonest = Math.min(soonest, waitMs);
        continue;
      }
      const submitKey = channel.upstream ? crypto.randomUUID() : null;
      const routed = { channel: channel.name, phase: channel.upstream ? 'submitting' as const : 'render' as const, tried: [...tried, channel.name].join(','), submitKey };
      if (!(await routeJob(q, lease, routed, now))) return { kind: 'later', inMs: 0 }; // lease lost: the caller stops
      await q.updateTable('tasks').set({ engine: channel.name }).where('id', '=', lease.taskId).execute();
      return { kind: 'routed', channel, submitKey };
    }
    if (soonest < Infinity) {
      await returnJob(q, lease, now, now + soonest);
      return { kind: 'later', inMs: soonest };
    }
    if (waiting) {
      await parkJob(q, lease, now);
      return { kind: 'parked' };
    }
    return { kind: 'exhausted' };
  }

  /** The serving channels in the order to try them: by priority, then a weighted shuffle among equals. */
  private ordered(model: string): Channel[] {
    const keyed = this.candidates(model).map((c) => ({ c, key: Math.random() ** (1 / c.settings.weight) }));
    keyed.sort((a, b) => b.c.settings.priority - a.c.settings.priority || b.key - a.key);
    return keyed.map((k) => k.c);
  }

  private async isFull(q: Q, channel: Channel): Promise<boolean> {
    return (await this.freePlaces(q, channel)) <= 0;
  }

  /** Jobs the channel may take now under `max_concurrency` (Infinity without a limit; local renders are limited by the worker). */
  async freePlaces(q: Q, channel: Channel): Promise<number> {
    const max = channel.settings.max_concurrency;
    if (max <= 0 || !channel.upstream) return Infinity;
    return max - (await countInFlight(q, channel.name, max));
  }

  private async restingNow(): Promise<Map<string, number>> {
    const now = this.clock.now();
    if (now - this.resting.at > RESTING_CACHE_MS) this.resting = { at: now, names: await restingChannels(this.store.db, now) };
    return this.resting.names;
  }
}

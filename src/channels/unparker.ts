import type { Logger } from 'pino';
import { anyParked, unparkJobs } from '../queue/channel-jobs.ts';
import type { Store } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';
import { PollLoop } from '../util/poll-loop.ts';
import { restingChannels } from './health.ts';
import type { ChannelRouter } from './router.ts';

export type UnparkerDeps = { store: Store; clock: Clock; router: ChannelRouter; logger: Logger; onWoken: () => void };

// Parked jobs woken at once, at most, for a channel without a concurrency limit.
const UNLIMITED_BATCH = 100;

/**
 * Wakes parked jobs when a channel has room again: when told (a job left a channel) and every
 * second (a channel finished resting). Wakes at most as many as there are free places.
 */
export class Unparker {
  private readonly loop: PollLoop;
  private readonly deps: UnparkerDeps;

  constructor(deps: UnparkerDeps) {
    this.deps = deps;
    this.loop = new PollLoop(() => this.pass(), (err) => deps.logger.error({ err }, 'waking parked jobs failed'));
  }

  start(intervalMs = 1000): void {
    this.loop.start(intervalMs);
  }

  notify(): void {
    this.loop.notify();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async pass(): Promise<boolean> {
    const { store, clock, router } = this.deps;
    if (!(await anyParked(store.db))) return false;
    const woken = await store.write(async (trx) => {
      const now = clock.now();
      const resting = await restingChannels(trx, now);
      let total = 0;
      for (const channel of router.channels) {
        if (resting.has(channel.name)) continue;
        const free = Math.min(UNLIMITED_BATCH, await router.freePlaces(trx, channel));
        total += await unparkJobs(trx, [...channel.settings.models.keys()], free, now);
      }
      return total;
    });
    if (woken > 0) this.deps.onWoken();
    return false;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';

const MAX_BACKOFF_MS = 30_000;
// Of the allowance, the share used: calls leave here evenly but may arrive a little bunched.
const HEADROOM = 0.9;

/** Turns shared by every process that calls one service (channels/health.ts keeps them in the store). */
export type SharedTurns = {
  /** Books the first turn at least a gap after the last one booked anywhere, and not before `now`; resolves with its start. */
  book(gapMs: number, now: number): Promise<number>;
  /** No process starts a turn before `until`. */
  holdOff(until: number): Promise<void>;
};

/**
 * Spaces calls evenly at 90% of `perSecond` — never in bursts, so a service counting any
 * one-second window sees fewer than its limit even with some jitter — and backs off (1 s,
 * doubling to 30 s, or the server's Retry-After) when throttled anyway. With `shared` turns
 * the rate holds for all processes together; if the store can't be reached, for this one.
 */
export class Pacer {
  private readonly gapMs: number;
  private readonly shared: SharedTurns | null;
  private lastStart = -Infinity;
  private notBefore = 0;
  private backoffMs = 0;
  private turns: Promise<void> = Promise.resolve();

  constructor(perSecond: number, shared: SharedTurns | null = null) {
    this.gapMs = 1000 / (perSecond * HEADROOM);
    this.shared = shared;
  }

  /**
   * Waits for this call's turn. Turns are given one after another, each a full gap after the
   * previous one actually started, so a stalled event loop delays calls but never bunches them.
   */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.turns.then(async () => {
      let start = Math.max(this.lastStart + this.gapMs, this.notBefore);
      if (this.shared) start = Math.max(start, await this.shared.book(this.gapMs, Date.now()).catch(() => start));
      const wait = start - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      this.lastStart = Date.now();
    });
    this.turns = turn.catch(() => {});
    return turn;
  }

  /** The service said "too many": nobody calls again before the back-off is over. */
  throttled(retryAfterMs?: number): void {
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs ? this.backoffMs * 2 : 1000);
    this.notBefore = Math.max(this.notBefore, Date.now() + Math.max(this.backoffMs, retryAfterMs ?? 0));
    this.shared?.holdOff(this.notBefore).catch(() => {}); // the others back off too; at worst they are throttled themselves
  }

  succeeded(): void {
    this.backoffMs = 0;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';

const MAX_BACKOFF_MS = 30_000;
// Of the allowance, the share used: calls leave here evenly but may arrive a little bunched.
const HEADROOM = 0.9;

/**
 * Spaces calls evenly at 90% of `perSecond` — never in bursts, so a service counting any
 * one-second window sees fewer than its limit even with some jitter — and backs off (1 s,
 * doubling to 30 s, or the server's Retry-After) when throttled anyway.
 */
export class Pacer {
  private readonly gapMs: number;
  private next = 0;
  private backoffMs = 0;

  constructor(perSecond: number) {
    this.gapMs = 1000 / (perSecond * HEADROOM);
  }

  /** Waits for this call's turn; turns are given in the order asked. */
  async take(signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(this.next, now);
    this.next = at + this.gapMs;
    if (at > now) await sleep(at - now, undefined, { signal });
  }

  /** The service said "too many": nobody calls again before the back-off is over. */
  throttled(retryAfterMs?: number): void {
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs ? this.backoffMs * 2 : 1000);
    this.next = Math.max(this.next, Date.now() + Math.max(this.backoffMs, retryAfterMs ?? 0));
  }

  succeeded(): void {
    this.backoffMs = 0;
  }
}

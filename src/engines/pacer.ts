import { setTimeout as sleep } from 'node:timers/promises';

const MAX_BACKOFF_MS = 30_000;

/**
 * Spaces calls to at most `perSecond` (evenly, so a per-second window on the other side is never
 * exceeded), and backs off — 1 s, doubling to 30 s, or the server's Retry-After — when throttled.
 */
export class Pacer {
  private readonly intervalMs: number;
  private next = 0;
  private backoffMs = 0;
  /** Calls made since the pacer was built (reported by benchmarks). */
  taken = 0;

  constructor(perSecond: number) {
    this.intervalMs = 1000 / perSecond;
  }

  /** Waits for this call's turn. */
  async take(signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(this.next, now);
    this.next = at + this.intervalMs;
    this.taken += 1;
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

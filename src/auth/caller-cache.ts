import type { Db } from '../store/db.ts';
import { type Caller, findCallerByKey } from './accounts.ts';

const MAX_ENTRIES = 10_000;

/**
 * Callers by API key, kept for `ttlMs` so a request does not pay a join to authenticate.
 * A key disabled elsewhere stops working within the TTL; unknown keys are never cached.
 */
export class CallerCache {
  private readonly entries = new Map<string, { caller: Caller; expires: number }>();
  private readonly db: Db;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(db: Db, ttlMs: number, now: () => number = Date.now) {
    this.db = db;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  async find(key: string): Promise<Caller | null> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.caller;
    const caller = await findCallerByKey(this.db, key);
    if (!caller) {
      this.entries.delete(key);
      return null;
    }
    if (this.ttlMs > 0) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { caller, expires: this.now() + this.ttlMs });
    }
    return caller;
  }
}

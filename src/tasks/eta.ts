import { sql } from 'kysely';
import type { Db } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';

const HISTORY = 20;
const CACHE_MS = 10_000;

/**
 * Estimates how long a task will take, from the recent completed tasks of the same model and
 * quality on the same engine (median seconds per output second, queue wait included); the
 * engine's own guess until there is history. Cached briefly: create must stay cheap.
 */
export class RenderTimes {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly cache = new Map<string, { perSecond: number | null; until: number }>();

  constructor(db: Db, clock: Clock) {
    this.db = db;
    this.clock = clock;
  }

  async estimateSeconds(key: { model: string; engine: string; quality: string }, videoSeconds: number, prior: number): Promise<number> {
    const perSecond = await this.secondsPerVideoSecond(key);
    return perSecond === null ? prior : Math.max(1, Math.round(perSecond * videoSeconds));
  }

  private async secondsPerVideoSecond({ model, engine, quality }: { model: string; engine: string; quality: string }): Promise<number | null> {
    const cacheKey = `${model}|${engine}|${quality}`;
    const now = this.clock.now();
    const cached = this.cache.get(cacheKey);
    if (cached && cached.until > now) return cached.perSecond;
    const rows = await this.db
      .selectFrom('tasks')
      .select(sql<number>`(finished_at - created_at) / 1000.0 / video_duration`.as('ratio'))
      .where('model', '=', model)
      .where('engine', '=', engine)
      .where('quality', '=', quality)
      .where(sql<boolean>`status = 'completed'`) // written out: matches the partial index tasks_history
      .orderBy('finished_at', 'desc')
      .limit(HISTORY)
      .execute();
    const perSecond = rows.length === 0 ? null : median(rows.map((r) => Number(r.ratio)));
    this.cache.set(cacheKey, { perSecond, until: now + CACHE_MS });
    return perSecond;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

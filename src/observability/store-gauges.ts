import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../store/db.ts';
import type { Clock } from '../util/clock.ts';

/** What the store says of the whole cluster at one moment. */
type Snapshot = {
  tasks: { status: string; n: number }[];
  jobs: { state: string; n: number }[];
  oldestDueAt: number | null;
  deliveries: { state: string; n: number }[];
  ledger: { kind: string; micro: number }[];
};

// Scrapes from several Prometheus servers (or a fast one) share one set of queries.
const SNAPSHOT_MAX_AGE_MS = 5000;
const UNFINISHED_JOB_STATES = ['queued', 'running', 'waiting', 'parked'] as const;

/**
 * Gauges read from the store at scrape time: task states, queue depth and age, callback
 * deliveries, ledger totals. Every process reports the same cluster-wide numbers.
 */
export function registerStoreGauges(registry: Registry, db: Db, clock: Clock): void {
  let cached: { at: number; snapshot: Promise<Snapshot> } | null = null;
  const snapshot = () => {
    const now = Date.now();
    if (!cached || now - cached.at > SNAPSHOT_MAX_AGE_MS) {
      cached = { at: now, snapshot: readSnapshot(db, clock.now()) };
      cached.snapshot.catch(() => (cached = null));
    }
    return cached.snapshot;
  };
  gauge(registry, 'vidgate_tasks', 'Tasks in the store, by status', ['status'], async (g) => {
    for (const { status, n } of (await snapshot()).tasks) g.set({ status }, n);
  });
  gauge(registry, 'vidgate_queue_jobs', 'Unfinished jobs: queued (due or backing off), running, waiting on an upstream, parked for a channel', ['state'], async (g) => {
    const jobs = (await snapshot()).jobs;
    for (const state of UNFINISHED_JOB_STATES) g.set({ state }, jobs.find((j) => j.state === state)?.n ?? 0);
  });
  gauge(registry, 'vidgate_queue_oldest_due_seconds', 'How long the longest-waiting queued job has been due (0 = none waits)', [], async (g) => {
    const { oldestDueAt } = await snapshot();
    g.set(oldestDueAt === null ? 0 : Math.max(0, (clock.now() - oldestDueAt) / 1000));
  });
  gauge(registry, 'vidgate_callback_deliveries', 'Callback deliveries in the store, by state', ['state'], async (g) => {
    for (const { state, n } of (await snapshot()).deliveries) g.set({ state }, n);
  });
  gauge(registry, 'vidgate_ledger_credits', 'Sum of ledger entries in credits, by kind (topup, reserve, charge, release)', ['kind'], async (g) => {
    for (const { kind, micro } of (await snapshot()).ledger) g.set({ kind }, micro / 1_000_000);
  });
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[], collect: (g: Gauge) => Promise<void>): void {
  new Gauge({
    name, help, labelNames, registers: [registry],
    async collect() {
      this.reset();
      await collect(this);
    },
  });
}

async function readSnapshot(db: Db, now: number): Promise<Snapshot> {
  const [tasks, jobs, oldest, deliveries, ledger] = await Promise.all([
    db.selectFrom('tasks').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).groupBy('status').execute(),
    db.selectFrom('jobs').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).where('state', 'in', UNFINISHED_JOB_STATES).groupBy('state').execute(),
    db.selectFrom('jobs').select((eb) => eb.fn.min('run_at').as('at')).where('state', '=', 'queued').where('run_at', '<=', now).executeTakeFirst(),
    db.selectFrom('callback_deliveries').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state').execute(),
    db.selectFrom('ledger_entries').select((eb) => ['kind', eb.fn.sum<number>('amount_micro').as('micro')]).groupBy('kind').execute(),
  ]);
  return {
    tasks: tasks.map((r) => ({ status: r.status, n: Number(r.n) })),
    jobs: jobs.map((r) => ({ state: r.state, n: Number(r.n) })),
    oldestDueAt: oldest?.at === null || oldest?.at === undefined ? null : Number(oldest.at),
    deliveries: deliveries.map((r) => ({ state: r.state, n: Number(r.n) })),
    ledger: ledger.map((r) => ({ kind: r.kind, micro: Number(r.micro) })),
  };
}

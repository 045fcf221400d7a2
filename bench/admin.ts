// The operator's reports on a big store: usage and task-browser queries against a `vidgate serve`
// whose store holds N generated tasks (default 1,000,000) over 60 days, on SQLite and PostgreSQL.
// Prints p50/p95 per query, and the time and server memory growth of a CSV export of every task.
// Usage: node bench/admin.ts [tasks=1000000] [stores=sqlite,postgres] [runs=15]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Insertable, sql } from 'kysely';
import { dayOf, durationBucket } from '../src/billing/usage.ts';
import { migrateToLatest, openStore, type Store } from '../src/store/db.ts';
import type { JobsTable, TasksTable, UsageDailyTable } from '../src/store/schema.ts';
import { startVidgate } from '../test/helpers/process.ts';
import { tempPostgresDatabase } from '../test/helpers/store.ts';
import { MB, peakRss } from '../test/helpers/uploads.ts';
import { ensureBenchPostgres } from './postgres.ts';

const TASKS = Number(process.argv[2] ?? 1_000_000);
const STORES = (process.argv[3] ?? 'sqlite,postgres').split(',');
const RUNS = Number(process.argv[4] ?? 15);
const ADMIN_KEY = `sk-adm-${'b3'.repeat(20)}`;
const DAY = 86_400_000;
const MODELS = ['wan2.7-text-to-video', 'wan2.7-image-to-video', 'wan2.6-text-to-video', 'seedance-2.0-text-to-video', 'kling-v3-text-to-video', 'veo-3.1-generate-preview', 'sora-2-preview', 'seedance-1.5-pro'];
const CHANNELS = ['local', 'dashscope', 'fal'];
const USERS = 200;

/** A deterministic random stream, so both stores get the same data. */
function random(seed: number): () => number {
  return () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
}

/** Writes the users, keys, tasks, jobs and (from the same tasks, through durationBucket) the usage rows. */
async function generate(store: Store, now: number): Promise<void> {
  const db = store.db;
  const rand = random(7);
  await db.insertInto('users').values(Array.from({ length: USERS }, (_, u) => ({
    id: `u${u}`, name: `user${u}`, user_group: 'default', webhook_secret: 'whsec_bench', balance_micro: 1e12, used_micro: 0, created_at: now - 90 * DAY,
  }))).execute();
  await db.insertInto('api_keys').values(Array.from({ length: USERS * 2 }, (_, k) => ({
    id: `k${k}`, user_id: `u${k % USERS}`, key_hash: `hash${k}`, key_prefix: 'sk-evo-bench', allowed_models: null, disabled_at: null, created_at: now - 90 * DAY,
    allowance_micro: null, spent_micro: 0, used_micro: 0, unlimited: 0, unfinished: 0, rpm: null, max_unfinished: null,
  }))).execute();
  const usage = new Map<string, Insertable<UsageDailyTable> & { durations: Record<string, number> }>();
  const batch = 1000;
  for (let start = 0; start < TASKS; start += batch) {
    const tasks: Insertable<TasksTable>[] = [];
    const jobs: Insertable<JobsTable>[] = [];
    for (let i = start; i < Math.min(TASKS, start + batch); i++) {
      const created = now - 60 * DAY + Math.floor((i / TASKS) * 60 * DAY); // oldest first, 60 days
      const roll = rand();
      const status = now - created < 120_000 && roll < 0.5 ? 'processing' : roll < 0.9 ? 'completed' : roll < 0.97 ? 'failed' : 'cancelled';
      const user = Math.floor(rand() ** 2 * USERS); // a few big users
      const model = MODELS[Math.floor(rand() * MODELS.length)];
      const channel = CHANNELS[Math.floor(rand() * CHANNELS.length)];
      const seconds = 5 + Math.floor(rand() * 3) * 5;
      const reserved = seconds * 1_000_000;
      const charged = status === 'completed' ? reserved : status === 'processing' ? null : 0;
      const runMs = 20_000 + Math.floor(rand() * 300_000);
      const finished = status === 'processing' ? null : created + runMs;
      const id = `task-unified-${Math.floor(created / 1000)}-${String(i).padStart(8, '0')}`;
      tasks.push({
        id, user_id: `u${user}`, key_id: `k${user + (rand() < 0.5 ? 0 : USERS)}`, model, status, progress: status === 'completed' ? 100 : 40, quality: '720p', seed: i,
        params_json: '{"prompt":"bench"}', callback_url: null, output_width: 1280, output_height: 720, output_fps: 24, output_duration_ms: seconds * 1000, video_duration: seconds,
        billed_seconds: seconds, billing_rule: 'per_second', credits_reserved_micro: reserved, credits_charged_micro: charged, user_group: 'default', estimated_time: 60,
        error_code: status === 'failed' ? 'service_error' : status === 'cancelled' ? 'request_cancelled' : null, error_message: status === 'failed' ? 'upstream failed' : null,
        result_path: status === 'completed' ? `results/${id}.mp4` : null, created_at: created, updated_at: finished ?? created, finished_at: finished, engine: channel,
        started_at: created + 1000, swept_at: null, can_cancel: 0, price_version: 1,
      });
      jobs.push({
        task_id: id, state: status === 'processing' ? 'waiting' : status === 'completed' ? 'done' : status === 'failed' ? 'failed' : 'cancelled', attempts: 1, max_attempts: 3,
        run_at: created, lease_owner: null, lease_token: null, lease_expires_at: null, last_error: null, created_at: created, updated_at: finished ?? created, model,
        phase: 'fetch', channel, tried_channels: channel, submit_key: null, upstream_id: `up-${i}`, upstream_ref: null, upstream_result: null, submitted_at: created + 1000, input_urls: null,
      });
      if (finished !== null) {
        const key = `${dayOf(created)}|u${user}|${model}|${channel}`;
        let row = usage.get(key);
        if (!row) usage.set(key, row = { day: dayOf(created), user_id: `u${user}`, model, channel, completed: 0, failed: 0, cancelled: 0, billed_seconds: 0, charged_micro: 0, released_micro: 0, durations_json: '', durations: {} });
        row[status as 'completed' | 'failed' | 'cancelled'] = Number(row[status as 'completed']) + 1;
        row.billed_seconds = Number(row.billed_seconds) + (status === 'completed' ? seconds : 0);
        row.charged_micro = Number(row.charged_micro) + (charged ?? 0);
        row.released_micro = Number(row.released_micro) + reserved - (charged ?? 0);
        const bucket = String(durationBucket(runMs / 1000));
        row.durations[bucket] = (row.durations[bucket] ?? 0) + 1;
      }
    }
    await store.write(async (trx) => {
      await trx.insertInto('tasks').values(tasks).execute();
      await trx.insertInto('jobs').values(jobs).execute();
    });
    if (start % 100_000 === 0) process.stderr.write(`\r  generating: ${start.toLocaleString()} tasks`);
  }
  const rows = [...usage.values()].map(({ durations, ...row }) => ({ ...row, durations_json: JSON.stringify(durations) }));
  for (let i = 0; i < rows.length; i += 1000) await db.insertInto('usage_daily').values(rows.slice(i, i + 1000)).execute();
  process.stderr.write(`\r  generated ${TASKS.toLocaleString()} tasks, ${rows.length.toLocaleString()} usage rows\n`);
}

async function timeQueries(baseUrl: string, now: number): Promise<void> {
  const get = async (query: string) => {
    const res = await fetch(`${baseUrl}/admin/v1${query}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    if (res.status !== 200) throw new Error(`${query} answered ${res.status}: ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const deepPage = async () => { // the 20th page of 50: keyset paging
    let before = '';
    for (let page = 0; page < 20; page++) before = (await get(`/tasks?limit=50${before ? `&before=${before}` : ''}`)).last_id;
  };
  const since = Math.floor((now - 30 * DAY) / 1000);
  const queries: [string, () => Promise<unknown>][] = [
    ['usage 30 days by day', () => get('/usage?group_by=day')],
    ['usage 30 days by model', () => get('/usage?group_by=model')],
    ['usage 30 days by user', () => get('/usage?group_by=user')],
    ['usage 30 days by channel', () => get('/usage?group_by=channel')],
    ['usage 30 days, one big user, by day', () => get('/usage?group_by=day&user=user0')],
    ['tasks: first page of 50', () => get('/tasks')],
    ['tasks: status=failed', () => get('/tasks?status=failed')],
    ['tasks: user=user150 (a small user)', () => get('/tasks?user=user150')],
    ['tasks: model + status=cancelled', () => get(`/tasks?model=${MODELS[3]}&status=cancelled`)],
    ['tasks: channel=fal, last 30 days', () => get(`/tasks?channel=fal&since=${since}`)],
    ['tasks: 20 pages deep (20 requests)', deepPage],
    ['ledger: first page', () => get('/ledger')],
  ];
  console.log(`  ${'query'.padEnd(40)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}`);
  for (const [name, run] of queries) {
    await run(); // warm
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      await run();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)].toFixed(1);
    console.log(`  ${name.padEnd(40)} ${at(0.5).padStart(8)} ${at(0.95).padStart(8)}`);
  }
}

async function timeExport(baseUrl: string, pid: number): Promise<void> {
  const before = peakRss(pid);
  const start = performance.now();
  const res = await fetch(`${baseUrl}/admin/v1/tasks?format=csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  let lines = 0;
  let bytes = 0;
  for await (const chunk of res.body!) {
    bytes += chunk.length;
    for (const byte of chunk) if (byte === 10) lines++;
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(`  CSV export of every task: ${(lines - 1).toLocaleString()} rows, ${(bytes / MB).toFixed(0)} MB in ${seconds.toFixed(1)} s ` +
    `(${Math.round((lines - 1) / seconds).toLocaleString()} rows/s); server peak memory ${(before / MB).toFixed(0)} MB before, grew by ${((peakRss(pid) - before) / MB).toFixed(0)} MB`);
}

for (const kind of STORES) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-admin-'));
  let database: { url: string; drop(): Promise<void> } | undefined;
  if (kind === 'postgres') {
    ensureBenchPostgres();
    database = await tempPostgresDatabase();
  }
  const store = openStore({ data_dir: dir, database_url: database?.url });
  const now = Date.now();
  console.log(`${kind}: ${TASKS.toLocaleString()} tasks over 60 days, ${USERS} users, ${MODELS.length} models, ${CHANNELS.length} channels`);
  try {
    await migrateToLatest(store.db);
    const started = performance.now();
    await generate(store, now);
    await sql`analyze`.execute(store.db); // fresh planner statistics, as autovacuum / a long-running SQLite would have
    console.log(`  (generated in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
    await store.close();
    const server = await startVidgate(['serve', '--no-worker'], { VIDGATE_DATA_DIR: dir, VIDGATE_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY, ...(database ? { VIDGATE_DATABASE_URL: database.url } : {}) });
    try {
      await timeQueries(server.baseUrl, now);
      await timeExport(server.baseUrl, server.child.pid!);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  } finally {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// bench/upstream-poll: many tasks in flight on a fake DashScope that allows 20 task queries a
// second; prints the delay from the upstream finishing a task to vidgate showing it completed
// (p50/p95/max), and the queries spent. Loopback only.
// Usage: node bench/upstream-poll.ts [tasks, default 10000] [latest finish in seconds, default 960] [earliest, default 60]
//        node bench/upstream-poll.ts --quick   (1,000 tasks finishing over 60–200 s: under 5 minutes in all)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from '../src/app.ts';
import { createKey } from '../src/auth/accounts.ts';
import { newApiKey } from '../src/auth/secrets.ts';
import { loadSettings } from '../src/config.ts';
import { startFakeDashScope } from '../test/fakes/dashscope.ts';
import { fixturesDir } from '../test/helpers/fixtures.ts';
import { freePort } from '../test/helpers/server.ts';

const QUICK = process.argv.includes('--quick');
const [tasksArg, latestArg, earliestArg] = process.argv.slice(2).filter((arg) => arg !== '--quick');
const TASKS = Number(tasksArg ?? (QUICK ? 1_000 : 10_000));
const LATEST_S = Number(latestArg ?? (QUICK ? 200 : 960));
const EARLIEST_S = Number(earliestArg ?? 60);
const CREATE_CONCURRENCY = 32;

const fake = await startFakeDashScope({ video: path.join(fixturesDir(), 'clip-1s-640x360.mp4'), queriesPerSecond: 20 });
// Random completion times, spread so the 20 queries a second can fetch every result (one query each).
fake.script = () => ({ queueMs: 0, runMs: (EARLIEST_S + Math.random() * (LATEST_S - EARLIEST_S)) * 1000, billedSeconds: 5 });
const dataDir = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-poll-'));
const port = await freePort();
const channel = { name: 'ali', engine: 'dashscope', base_url: fake.baseUrl, api_key_env: 'FAKE_DASHSCOPE_KEY', poll_interval: '2s' };
const settings = loadSettings({
  VIDGATE_DATA_DIR: dataDir, VIDGATE_PORT: String(port), VIDGATE_LOG_LEVEL: 'warn', VIDGATE_WORKER_CONCURRENCY: '16',
  VIDGATE_CHANNELS: JSON.stringify([channel]), FAKE_DASHSCOPE_KEY: fake.apiKey,
});
const app = await createApp({ settings, worker: true });
await app.http.listen({ port, host: '127.0.0.1' });
const key = newApiKey();
await createKey(app.db, key, { user: 'bench', userCredits: TASKS * 100 * 1_000_000 }, Date.now());

const started = Date.now();
let next = 0;
await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, async () => {
  while (next < TASKS) {
    next += 1;
    const res = await fetch(`http://127.0.0.1:${port}/v1/videos/generations`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'wan2.7-text-to-video', prompt: 'a lighthouse at dusk', duration: 5 }),
    });
    if (res.status !== 200) throw new Error(`create answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }
}));
console.log(`created ${TASKS} tasks in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const unfinished = () => app.db.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'in', ['pending', 'processing']).executeTakeFirstOrThrow();
for (;;) {
  const { n } = await unfinished();
  if (Number(n) === 0) break;
  const q = fake.queries;
  console.log(`${Math.round((Date.now() - started) / 1000)} s: ${n} unfinished; upstream has ${fake.tasks.size}; queries ${q.total} (single ${q.single}, list ${q.list}, throttled ${q.throttled})`);
  await sleep(30_000);
}

const rows = await app.db.selectFrom('tasks').innerJoin('jobs', 'jobs.task_id', 'tasks.id').select(['tasks.status', 'tasks.finished_at', 'jobs.upstream_id']).execute();
const delays: number[] = [];
for (const row of rows) {
  const upstream = fake.tasks.get(row.upstream_id ?? '');
  if (row.status !== 'completed' || !upstream) throw new Error(`a task ended ${row.status} (upstream ${row.upstream_id})`);
  delays.push((Number(row.finished_at) - fake.endTime(upstream)) / 1000);
}
delays.sort((a, b) => a - b);
const at = (p: number) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))].toFixed(2);
const floor = queryBudgetFloor([...fake.tasks.values()].map((task) => fake.endTime(task)));
const q = fake.queries;
console.log(`\n${TASKS} tasks, completions spread over ${EARLIEST_S}–${LATEST_S} s, 20 queries/s allowed, ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
console.log(`delay upstream-completed → vidgate completed: p50 ${at(0.5)} s, p95 ${at(0.95)} s, max ${delays.at(-1)!.toFixed(2)} s`);
console.log(`floor of the query budget: p50 ${floor.p50.toFixed(2)} s, p95 ${floor.p95.toFixed(2)} s (one query per completion; what is left of 20/s lists the tasks in flight, 100 a page; a task waits for the pass that sees it gone)`);
// A single query answered PENDING or RUNNING was spent in vain: the task had not left the list.
const vain = [...fake.tasks.values()].reduce((n, task) => n + task.answered.filter((status) => status === 'PENDING' || status === 'RUNNING').length, 0);
console.log(`queries: ${q.total} (${q.single} single, ${vain} of them in vain, ${q.list} list pages, ${q.throttled} refused with 429); one per job per pass would be ${TASKS} a pass`);
await app.close();
await fake.close();
rmSync(dataDir, { recursive: true, force: true });

/**
 * The delays no poller could beat on this budget: each completion costs one query to fetch; the
 * rest of the 20 a second lists the tasks still in flight (100 a page), so a task finishing at a
 * random moment of a pass waits for the rest of it, a pass being that moment's pages at that rate.
 */
function queryBudgetFloor(endTimes: number[]): { p50: number; p95: number } {
  const ends = [...endTimes].sort((a, b) => a - b);
  const rate = ends.length / ((ends.at(-1)! - ends[0]) / 1000);
  const listRate = Math.max(0.1, 20 - rate);
  const waits = ends.map((_, i) => {
    const pass = Math.ceil((ends.length - i) / 100) / listRate;
    return ((i * 0.618034) % 1) * pass + 1 / 20; // spread evenly over the pass (golden-ratio steps)
  }).sort((a, b) => a - b);
  return { p50: waits[Math.floor(0.5 * waits.length)], p95: waits[Math.floor(0.95 * waits.length)] };
}

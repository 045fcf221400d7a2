// bench/api: create and get throughput and latency of vidgate, on SQLite and on PostgreSQL,
// beside a bare Fastify route answering the same payload, in one run on this machine.
// Loopback only; bounded in time. PostgreSQL: VIDGATE_TEST_DATABASE_URL's server, or a throwaway one.
// Usage: node bench/api.ts [seconds per run, default 10] [connections, default 32]
import { tempPostgresDatabase } from '../test/helpers/store.ts';
import { BENCH_KEY, CREATE_BODY, headers, load as loadUrls, type LoadRequest, type LoadResult as Result, startServer } from './load.ts';
import { ensureBenchPostgres, postgresDurability } from './postgres.ts';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = Number(process.argv[3] ?? 32);

const load = (url: string, request: LoadRequest, seconds: number) => loadUrls([url], [request], { seconds, connections: CONNECTIONS });

async function measure(name: 'bare' | 'vidgate', env: Record<string, string>, taskId: string) {
  const { child, url } = await startServer(name, env);
  try {
    const create = { method: 'POST' as const, path: '/v1/videos/generations', body: CREATE_BODY };
    const get = { method: 'GET' as const, path: `/v1/tasks/${taskId}` };
    await load(url, create, 2); // warm-up
    const created = await load(url, create, SECONDS);
    let id = taskId;
    if (name === 'vidgate') {
      const res = await fetch(url + create.path, { method: 'POST', headers, body: CREATE_BODY });
      id = ((await res.json()) as { id: string }).id;
    }
    await load(url, { ...get, path: `/v1/tasks/${id}` }, 2);
    const got = await load(url, { ...get, path: `/v1/tasks/${id}` }, SECONDS);
    return { create: created, get: got };
  } finally {
    child.kill('SIGTERM');
  }
}

const sample = { id: 'task-unified-1761313744-h1edgh12', object: 'video.generation.task', created: 1761313744, model: 'wan2.7-text-to-video', status: 'pending', progress: 0, type: 'video', task_info: { can_cancel: true, estimated_time: 120, video_duration: 5 }, usage: { billing_rule: 'per_second', credits_reserved: 43, user_group: 'default' } };

ensureBenchPostgres();
const bare = await measure('bare', { BENCH_TASK_JSON: JSON.stringify(sample) }, sample.id);
const sqlite = await measure('vidgate', { BENCH_KEY }, sample.id);
const database = await tempPostgresDatabase();
const postgres = await measure('vidgate', { BENCH_KEY, BENCH_DATABASE_URL: database.url }, sample.id);
const durability = await postgresDurability(database.url);
await database.drop();

const row = (label: string, r: Result) => `${label.padEnd(22)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   errors ${r.errors}`;
const share = (r: Result, of: Result) => `${((100 * r.rps) / of.rps).toFixed(0)}%`;
console.log(`bench/api — ${SECONDS} s per run, ${CONNECTIONS} connections, one API process, no worker; PostgreSQL ${durability}`);
console.log(row('bare create', bare.create));
console.log(row('vidgate create sqlite', sqlite.create));
console.log(row('vidgate create postgres', postgres.create));
console.log(row('bare get', bare.get));
console.log(row('vidgate get sqlite', sqlite.get));
console.log(row('vidgate get postgres', postgres.get));
console.log(`create: vidgate/bare = ${share(sqlite.create, bare.create)} on SQLite, ${share(postgres.create, bare.create)} on PostgreSQL (aim ≥ 50%)`);
console.log(`get:    vidgate/bare = ${share(sqlite.get, bare.get)} on SQLite, ${share(postgres.get, bare.get)} on PostgreSQL (aim ≥ 85%)`);
process.exit(0);

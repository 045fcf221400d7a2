// bench/api: create and get throughput and latency of vidgate beside a bare Fastify route
// answering the same payload, in one run on this machine. Loopback only; bounded in time.
// Usage: node bench/api.ts [seconds per run, default 10] [connections, default 32]
import { type ChildProcess, spawn } from 'node:child_process';
import autocannon from 'autocannon';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = Number(process.argv[3] ?? 32);
const KEY = `sk-evo-bench${'0'.repeat(32)}`;
const BODY = JSON.stringify({ model: 'wan2.7-text-to-video', prompt: 'a lighthouse at dusk, waves, cinematic', duration: 5 });
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

function start(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const port = /ready (\d+)/.exec(chunk.toString())?.[1];
      if (port) resolve({ child, url: `http://127.0.0.1:${port}` });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

type Result = { rps: number; p50: number; p99: number; errors: number };

async function load(url: string, options: { method: 'GET' | 'POST'; path: string; body?: string }, seconds: number): Promise<Result> {
  const result = await autocannon({ url: url + options.path, method: options.method, body: options.body, headers, connections: CONNECTIONS, duration: seconds });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors };
}

async function measure(name: string, env: Record<string, string>, taskId: string) {
  const { child, url } = await start(`./servers/${name}.ts`, env);
  try {
    const create = { method: 'POST' as const, path: '/v1/videos/generations', body: BODY };
    const get = { method: 'GET' as const, path: `/v1/tasks/${taskId}` };
    await load(url, create, 2); // warm-up
    const created = await load(url, create, SECONDS);
    let id = taskId;
    if (name === 'vidgate') {
      const res = await fetch(url + create.path, { method: 'POST', headers, body: BODY });
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

const bare = await measure('bare', { BENCH_TASK_JSON: JSON.stringify(sample) }, sample.id);
const vidgate = await measure('vidgate', { BENCH_KEY: KEY }, sample.id);

const row = (label: string, r: Result) => `${label.padEnd(18)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   errors ${r.errors}`;
console.log(`bench/api — ${SECONDS} s per run, ${CONNECTIONS} connections, SQLite store`);
console.log(row('bare create', bare.create));
console.log(row('vidgate create', vidgate.create));
console.log(row('bare get', bare.get));
console.log(row('vidgate get', vidgate.get));
console.log(`create: vidgate/bare = ${((100 * vidgate.create.rps) / bare.create.rps).toFixed(0)}% (aim ≥ 40%)`);
console.log(`get:    vidgate/bare = ${((100 * vidgate.get.rps) / bare.get.rps).toFixed(0)}% (aim ≥ 70%)`);
process.exit(0);

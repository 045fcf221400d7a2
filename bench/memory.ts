// bench/memory: one vidgate API process (SQLite, or PostgreSQL with --postgres) under a steady
// mixed load (90% get, 10% create) for ten minutes; prints its resident memory every minute with
// its V8 heap in use, that minute's throughput and p99, and how both moved after the first minute.
// Loopback only. Usage: node bench/memory.ts [minutes, default 10] [requests/s, default 1000] [--postgres]
import { readFileSync } from 'node:fs';
import { tempPostgresDatabase } from '../test/helpers/store.ts';
import { BENCH_KEY, CREATE_BODY, headers, type LoadRequest, paced, startServer } from './load.ts';
import { ensureBenchPostgres } from './postgres.ts';

const POSTGRES = process.argv.includes('--postgres');
const [minutesArg, rateArg] = process.argv.slice(2).filter((arg) => arg !== '--postgres');
const MINUTES = Number(minutesArg ?? 10);
const RATE = Number(rateArg ?? 1000);

/** The process's resident set, from /proc (Linux). */
function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

/** The server's V8 heap in use, from its /metrics (prom-client's default metrics). */
async function heapMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^vidgate_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1]) / 1024 / 1024;
}

let database: Awaited<ReturnType<typeof tempPostgresDatabase>> | null = null;
if (POSTGRES) {
  ensureBenchPostgres();
  database = await tempPostgresDatabase();
}
const server = await startServer('vidgate', { BENCH_KEY, ...(database ? { BENCH_DATABASE_URL: database.url } : {}) });
try {
  const create: LoadRequest = { method: 'POST', path: '/v1/videos/generations', body: CREATE_BODY };
  const res = await fetch(server.url + create.path, { method: 'POST', headers, body: CREATE_BODY });
  const get: LoadRequest = { method: 'GET', path: `/v1/tasks/${((await res.json()) as { id: string }).id}` };
  const mix = [create, ...Array.from({ length: 9 }, () => get)];
  console.log(`bench/memory — one API process on ${POSTGRES ? 'PostgreSQL' : 'SQLite'}, ${RATE} requests/s (90% get, 10% create), ${MINUTES} minutes`);
  console.log(`start: RSS ${rssMb(server.child.pid!).toFixed(0)} MB`);
  const rss: number[] = [];
  const heap: number[] = [];
  for (let minute = 1; minute <= MINUTES; minute++) {
    const result = await paced([server.url], mix, { seconds: 60, connections: 32, rate: RATE });
    rss.push(rssMb(server.child.pid!));
    heap.push(await heapMb(server.url));
    console.log(`minute ${String(minute).padStart(2)}: RSS ${rss.at(-1)!.toFixed(0)} MB   heap used ${heap.at(-1)!.toFixed(0)} MB   ${result.rps.toFixed(0)} req/s   p99 ${result.p99} ms   errors ${result.errors}`);
  }
  const settled = rss.slice(1); // the first minute includes warming up (JIT, caches)
  if (settled.length > 1) {
    console.log(`RSS from minute 2 to ${MINUTES}: min ${Math.min(...settled).toFixed(0)} MB, max ${Math.max(...settled).toFixed(0)} MB, last − minute 2 = ${(settled.at(-1)! - settled[0]).toFixed(0)} MB; heap used: last − minute 2 = ${(heap.at(-1)! - heap[1]).toFixed(0)} MB`);
  }
} finally {
  server.child.kill('SIGTERM');
  await database?.drop();
}
process.exit(0);

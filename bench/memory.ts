// bench/memory: one vidgate API process (SQLite, or PostgreSQL with --postgres) under a steady
// mixed load (90% get, 10% create) for ten minutes; prints its resident memory every minute with
// that minute's throughput and p99, and the growth from the first minute to the last.
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
  for (let minute = 1; minute <= MINUTES; minute++) {
    const result = await paced([server.url], mix, { seconds: 60, connections: 32, rate: RATE });
    rss.push(rssMb(server.child.pid!));
    console.log(`minute ${String(minute).padStart(2)}: RSS ${rss.at(-1)!.toFixed(0)} MB   ${result.rps.toFixed(0)} req/s   p99 ${result.p99} ms   errors ${result.errors}`);
  }
  console.log(`RSS growth from minute 1 to minute ${MINUTES}: ${(rss.at(-1)! - rss[0]).toFixed(0)} MB (${((100 * (rss.at(-1)! - rss[0])) / rss[0]).toFixed(1)}%)`);
} finally {
  server.child.kill('SIGTERM');
  await database?.drop();
}
process.exit(0);

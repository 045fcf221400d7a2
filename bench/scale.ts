// bench/scale: how vidgate's API grows with its processes, on SQLite and on PostgreSQL (the
// server's default durability, printed): create and get throughput with one API process on
// SQLite and 1, 2 and 4 on one PostgreSQL database, the p99 of a mixed load (90% get, 10% create) at 50%, 80% and 100% of its
// measured peak, and the store's size per 1M tasks. Loopback only; bounded in time.
// PostgreSQL: VIDGATE_TEST_DATABASE_URL's server, or a throwaway one (bench/postgres.ts).
// Usage: node bench/scale.ts [seconds per run, default 5] [connections, default 32] [PostgreSQL process counts, default 1,2,4]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { tempPostgresDatabase } from '../test/helpers/store.ts';
import { BENCH_KEY, CREATE_BODY, headers, load, type LoadRequest, type LoadResult, paced, startServer } from './load.ts';
import { ensureBenchPostgres, postgresDurability } from './postgres.ts';

const SECONDS = Number(process.argv[2] ?? 5);
const CONNECTIONS = Number(process.argv[3] ?? 32);
const PROCESS_COUNTS = (process.argv[4] ?? '1,2,4').split(',').map(Number);
const create: LoadRequest = { method: 'POST', path: '/v1/videos/generations', body: CREATE_BODY };

type StoreUnderTest = { name: 'sqlite' | 'postgres'; env: Record<string, string>; bytes(): Promise<number>; tasks(): Promise<number>; drop(): Promise<void> };

async function sqliteStore(): Promise<StoreUnderTest> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-scale-'));
  const file = path.join(dir, 'vidgate.sqlite');
  const read = <T>(query: (db: SQLite.Database) => T): T => {
    const db = new SQLite(file);
    try {
      return query(db);
    } finally {
      db.close();
    }
  };
  return {
    name: 'sqlite', env: { BENCH_DATA_DIR: dir },
    // After a checkpoint the main file holds everything.
    bytes: async () => {
      read((db) => db.pragma('wal_checkpoint(TRUNCATE)'));
      return statSync(file).size;
    },
    tasks: async () => read((db) => (db.prepare('select count(*) as n from tasks').get() as { n: number }).n),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresStore(): Promise<StoreUnderTest> {
  const database = await tempPostgresDatabase();
  const one = async (query: string) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return Number(Object.values((await client.query(query)).rows[0])[0]);
    } finally {
      await client.end();
    }
  };
  return {
    name: 'postgres', env: { BENCH_DATABASE_URL: database.url },
    bytes: () => one('select pg_database_size(current_database())'),
    tasks: () => one('select count(*) from tasks'),
    drop: () => database.drop(),
  };
}

type Row = { store: string; processes: number; create: LoadResult; get: LoadResult; mixedPeak: LoadResult; mixed: { share: number; result: LoadResult }[]; bytesPerMillion: number };

/** Starts `processes` API processes on a fresh store (one after another: the first migrates it) and measures them. */
async function measure(makeStore: () => Promise<StoreUnderTest>, processes: number): Promise<Row> {
  const store = await makeStore();
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  try {
    for (let i = 0; i < processes; i++) servers.push(await startServer('vidgate', { BENCH_KEY, ...store.env }));
    const urls = servers.map((s) => s.url);
    const bytesBefore = await store.bytes();
    const run = (requests: LoadRequest[], seconds = SECONDS) => load(urls, requests, { seconds, connections: CONNECTIONS });
    await run([create], 2); // warm-up
    const created = await run([create]);
    const res = await fetch(urls[0] + create.path, { method: 'POST', headers, body: CREATE_BODY });
    const get: LoadRequest = { method: 'GET', path: `/v1/tasks/${((await res.json()) as { id: string }).id}` };
    await run([get], 2);
    const got = await run([get]);
    const mix = [create, ...Array.from({ length: 9 }, () => get)]; // 90% get, 10% create
    const peak = await run(mix);
    const mixed = [];
    // Open loop at a share of the closed-loop peak: the latency a client sees at that traffic.
    for (const share of [50, 80, 100]) mixed.push({ share, result: await paced(urls, mix, { seconds: SECONDS, connections: CONNECTIONS, rate: (peak.rps * share) / 100 }) });
    const tasks = await store.tasks();
    const bytesPerMillion = ((await store.bytes()) - bytesBefore) / tasks * 1e6;
    return { store: store.name, processes, create: created, get: got, mixedPeak: peak, mixed, bytesPerMillion };
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => new Promise((done) => (s.child.exitCode === null ? s.child.once('exit', done) : done(null)))));
    await store.drop();
  }
}

ensureBenchPostgres();
const durability = await postgresDurability(process.env.VIDGATE_TEST_DATABASE_URL!);

const rows: Row[] = [];
// SQLite is one process by design (its writes go through that process's group commit); PostgreSQL is how vidgate scales out.
rows.push(await measure(sqliteStore, 1));
for (const processes of PROCESS_COUNTS) rows.push(await measure(postgresStore, processes));

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (r: LoadResult) => `${r.p99} ms${r.errors ? ` (${r.errors} errors)` : ''}`;
console.log(`bench/scale — ${SECONDS} s per run, ${CONNECTIONS} connections shared by the processes, no worker; PostgreSQL ${durability}`);
console.log('| store | API processes | create req/s | get req/s | mixed peak req/s | mixed p99 at 50% | 80% | 100% | store per 1M tasks |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const [half, most, full] = r.mixed.map((m) => m.result);
  const errors = r.create.errors + r.get.errors;
  console.log(`| ${r.store} | ${r.processes} | ${n(r.create.rps)} | ${n(r.get.rps)}${errors ? ` (${errors} errors)` : ''} | ${n(r.mixedPeak.rps)} | ${ms(half)} | ${ms(most)} | ${ms(full)} | ${(r.bytesPerMillion / 1e9).toFixed(2)} GB |`);
}
process.exit(0);

// bench/round-trips: the statements PostgreSQL receives per create (each one a round trip, as
// node-postgres sends one at a time), for a lone create and for 32 arriving together; counted
// by wrapping pg's Client.query in this process, vidgate served in process (no worker).
// Usage: node bench/round-trips.ts   (VIDGATE_TEST_DATABASE_URL's server, or a throwaway one)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { loadSettings } from '../src/config.ts';
import { tempPostgresDatabase } from '../test/helpers/store.ts';
import { BENCH_KEY, CREATE_BODY, headers } from './load.ts';
import { ensureBenchPostgres } from './postgres.ts';

let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements += 1;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

ensureBenchPostgres();
const database = await tempPostgresDatabase();
const dataDir = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-rt-'));
const settings = loadSettings({ VIDGATE_DATA_DIR: dataDir, VIDGATE_LOG_LEVEL: 'warn', VIDGATE_BOOTSTRAP_KEY: BENCH_KEY, VIDGATE_BOOTSTRAP_CREDITS: '1000000', VIDGATE_DATABASE_URL: database.url });
const app = await createApp({ settings });
const create = () => app.http.inject({ method: 'POST', url: '/v1/videos/generations', headers, payload: CREATE_BODY });
await create(); // warm: the caller cache, the price book
await sleep(300);
for (const together of [1, 32]) {
  statements = 0;
  const answers = await Promise.all(Array.from({ length: together }, create));
  if (answers.some((a) => a.statusCode !== 200)) throw new Error(`a create answered ${answers.find((a) => a.statusCode !== 200)!.body}`);
  await sleep(300); // the NOTIFY that follows
  console.log(`${together} create${together > 1 ? 's arriving together' : ''}: ${statements} statements, ${(statements / together).toFixed(2)} per create`);
}
await app.close();
await database.drop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);

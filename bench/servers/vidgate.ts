// vidgate on the embedded store in a temp dir (BENCH_DATA_DIR: a given one, shared by several) or on BENCH_DATABASE_URL, with a known key; prints "ready <port>".
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/app.ts';
import { loadSettings } from '../../src/config.ts';

const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'vidgate-bench-'));
// Any VIDGATE_* of the bench's environment comes along (bench/hostile.ts opens the outbound guard to its media server).
const passed = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('VIDGATE_') && key !== 'VIDGATE_TEST_DATABASE_URL'));
const settings = loadSettings({
  ...passed,
  VIDGATE_DATA_DIR: dataDir,
  VIDGATE_LOG_LEVEL: 'warn',
  VIDGATE_BOOTSTRAP_KEY: process.env.BENCH_KEY,
  VIDGATE_BOOTSTRAP_CREDITS: '1000000000',
  ...(process.env.BENCH_DATABASE_URL ? { VIDGATE_DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
});
const app = await createApp({ settings });
await app.http.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`ready ${(app.http.server.address() as { port: number }).port}\n`);
process.on('SIGINT', () => process.exit(0));

// A PostgreSQL server for a benchmark: the one in VIDGATE_TEST_DATABASE_URL, or a throwaway one
// started with scripts/postgres.sh (Debian's package; bin/test installs it) and stopped at exit.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SCRIPT = new URL('../scripts/postgres.sh', import.meta.url).pathname;

/** Makes sure VIDGATE_TEST_DATABASE_URL names a server (tempPostgresDatabase makes databases on it). */
export function ensureBenchPostgres(): void {
  if (process.env.VIDGATE_TEST_DATABASE_URL) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-pg-'));
  process.env.VIDGATE_TEST_DATABASE_URL = execFileSync('bash', [SCRIPT, 'start', dir, 'bench'], { encoding: 'utf8' }).trim();
  process.once('SIGINT', () => process.exit(130));
  process.on('exit', () => {
    execFileSync('bash', [SCRIPT, 'stop', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
}

/** The durability the server at `url` runs with, for printing beside the numbers (never assumed: a reused server may differ from the throwaway one). */
export async function postgresDurability(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const setting = async (name: string) => (await client.query(`show ${name}`)).rows[0][name];
    return `fsync=${await setting('fsync')}, synchronous_commit=${await setting('synchronous_commit')} (its default: fsync=on, synchronous_commit=on)`;
  } finally {
    await client.end();
  }
}

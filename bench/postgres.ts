// A PostgreSQL server for a benchmark: the one in VIDGATE_TEST_DATABASE_URL, or a throwaway one
// started with scripts/postgres.sh (Debian's package; bin/test installs it) and stopped at exit.
import { execFileSync } from 'node:child_process';
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

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from './helpers/server.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const dataDir = mkdtempSync(path.join(tmpdir(), 'vidgate-cli-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));


/** Starts `vidgate serve`, waits until it listens, returns its stdout so far, and stops it. */
async function serveOnce(env: Record<string, string>): Promise<{ stdout: string; status: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, VIDGATE_DATA_DIR: dataDir, VIDGATE_PORT: String(port), VIDGATE_LOG_LEVEL: 'warn', ...env },
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => stdout.includes('listening on') && resolve());
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stdout}`)));
  });
  const key = env.VIDGATE_BOOTSTRAP_KEY;
  const res = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  return { stdout, status: res.status };
}

describe('vidgate serve', () => {
  it('creates and prints a first key once, in an empty store', async () => {
    const first = await serveOnce({});
    assert.equal(first.status, 401);
    const key = /sk-evo-[A-Za-z0-9]{40}/.exec(first.stdout)?.[0];
    assert.ok(key, first.stdout);
    assert.match(first.stdout, /whsec_/);
    const second = await serveOnce({});
    assert.doesNotMatch(second.stdout, /sk-evo-/);
  });
  it('makes sure the bootstrap key exists, without printing it', async () => {
    const key = `sk-evo-${'b'.repeat(32)}`;
    const { stdout, status } = await serveOnce({ VIDGATE_BOOTSTRAP_KEY: key, VIDGATE_BOOTSTRAP_CREDITS: '50' });
    assert.equal(status, 200);
    assert.doesNotMatch(stdout, /sk-evo-/);
  });
  it('stops at a bad setting, naming it', () => {
    const run = spawnSync(process.execPath, [MAIN, 'serve'], { env: { ...process.env, VIDGATE_DATA_DIR: dataDir, VIDGATE_PORT: 'abc' }, encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^vidgate: invalid setting VIDGATE_PORT: /);
  });
  it('migrate brings the store up to date', () => {
    const run = spawnSync(process.execPath, [MAIN, 'migrate'], { env: { ...process.env, VIDGATE_DATA_DIR: dataDir }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /up to date/);
  });
});

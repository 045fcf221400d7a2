import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { findCallerByKey } from '../src/auth/accounts.ts';
import { migrateToLatest, openStore } from '../src/store/db.ts';
import { ResultFiles } from '../src/media/results.ts';
import { FileObjectStore } from '../src/storage/file-store.ts';
import { TaskSettlement } from '../src/tasks/settlement.ts';
import { seedTask } from './helpers/tasks.ts';
import { freePort } from './helpers/server.ts';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const dataDir = mkdtempSync(path.join(tmpdir(), 'vidgate-cli-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));


/** Starts `vidgate serve`, waits until it listens, returns its stdout so far, and stops it. */
async function serveOnce(env: Record<string, string>): Promise<{ stdout: string; stderr: string; status: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, VIDGATE_DATA_DIR: dataDir, VIDGATE_PORT: String(port), VIDGATE_LOG_LEVEL: 'warn', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => stdout.includes('listening on') && resolve());
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stdout}`)));
  });
  const key = env.VIDGATE_BOOTSTRAP_KEY;
  const res = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('close', resolve)); // 'close': its output has all been read
  return { stdout, stderr, status: res.status };
}

describe('vidgate serve', () => {
  it('creates and prints a first key once, in an empty store', async () => {
    const first = await serveOnce({});
    assert.equal(first.status, 401);
    const key = /sk-evo-[A-Za-z0-9]{40}/.exec(first.stdout)?.[0];
    assert.ok(key, first.stdout);
    assert.match(first.stdout, /whsec_/);
    assert.doesNotMatch(first.stdout + first.stderr, /must exist|"level":40/, 'a fresh data dir starts without warnings');
    assert.match(first.stdout, /Created the first admin key, for \/admin and \/admin\/v1 \(shown once, store it now\):\n {2}sk-adm-[A-Za-z0-9]{40}\n/, 'and an admin key, once (CONTRACT §10.1)');
    const second = await serveOnce({});
    assert.doesNotMatch(second.stdout, /sk-evo-|sk-adm-/);
  });
  it('makes sure the bootstrap key exists, without printing it', async () => {
    const key = `sk-evo-${'b'.repeat(32)}`;
    const { stdout, status } = await serveOnce({ VIDGATE_BOOTSTRAP_KEY: key, VIDGATE_BOOTSTRAP_CREDITS: '50' });
    assert.equal(status, 200);
    assert.doesNotMatch(stdout, /sk-evo-/);
    const shown = /Its user's webhook signing secret .*\n  (whsec_\S+)\n/.exec(stdout)?.[1];
    assert.ok(shown, `the webhook secret of the key's user is shown once: ${stdout}`);
    const again = spawnSync(process.execPath, [MAIN, 'keys', 'webhook-secret', '--user', 'default'], { env: { ...process.env, VIDGATE_DATA_DIR: dataDir }, encoding: 'utf8' });
    assert.equal(again.stdout, `${shown}\n`, again.stderr);
  });

  it('rotates a webhook secret, and warns when VIDGATE_BOOTSTRAP_WEBHOOK_SECRET can no longer apply', async () => {
    const env = { ...process.env, VIDGATE_DATA_DIR: dataDir };
    const before = spawnSync(process.execPath, [MAIN, 'keys', 'webhook-secret', '--user', 'default'], { env, encoding: 'utf8' }).stdout.trim();
    const rotated = spawnSync(process.execPath, [MAIN, 'keys', 'webhook-secret', '--user', 'default', '--rotate', '--json'], { env, encoding: 'utf8' });
    const answer = JSON.parse(rotated.stdout);
    assert.match(answer.webhook_secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    assert.notEqual(answer.webhook_secret, before);
    const stored = spawnSync(process.execPath, [MAIN, 'keys', 'webhook-secret', '--user', 'default'], { env, encoding: 'utf8' }).stdout.trim();
    assert.equal(stored, answer.webhook_secret);
    const missing = spawnSync(process.execPath, [MAIN, 'keys', 'webhook-secret', '--user', 'nobody'], { env, encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, 'vidgate: no user nobody\n');

    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const { stderr, status } = await serveOnce({ VIDGATE_BOOTSTRAP_KEY: `sk-evo-${'b'.repeat(32)}`, VIDGATE_BOOTSTRAP_WEBHOOK_SECRET: other });
    assert.equal(status, 200);
    assert.match(stderr, /^vidgate: warning: VIDGATE_BOOTSTRAP_WEBHOOK_SECRET is ignored: .* user default already has another secret .*keys webhook-secret --user default/m);
  });
  it('stops at a bad setting, naming it', () => {
    const run = spawnSync(process.execPath, [MAIN, 'serve'], { env: { ...process.env, VIDGATE_DATA_DIR: dataDir, VIDGATE_PORT: 'abc' }, encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^vidgate: invalid setting VIDGATE_PORT: /);
  });
  it('says in one line which setting stops a start, and what to do: a database URL, an unreachable database or storage, a busy port', async () => {
    const serve = (env: Record<string, string>) =>
      spawnSync(process.execPath, [MAIN, 'serve'], { env: { ...process.env, VIDGATE_DATA_DIR: dataDir, VIDGATE_LOG_LEVEL: 'warn', ...env }, encoding: 'utf8' });
    const mysql = serve({ VIDGATE_DATABASE_URL: 'mysql://x' });
    assert.equal(mysql.status, 2);
    assert.match(mysql.stderr, /^vidgate: invalid setting VIDGATE_DATABASE_URL: must be a postgres:\/\/ URL .*\n$/);

    const closed = await freePort(); // nothing listens there
    const down = serve({ VIDGATE_DATABASE_URL: `postgres://vidgate:hunter2@127.0.0.1:${closed}/vidgate` });
    assert.equal(down.status, 2, down.stderr);
    assert.equal(down.stderr, `vidgate: VIDGATE_DATABASE_URL: cannot use the PostgreSQL database at postgres://vidgate:***@127.0.0.1:${closed}/vidgate: nothing listens there; is PostgreSQL running?\n`);

    const noStorage = serve({ VIDGATE_STORAGE_URL: 's3://vidgate-media/prod', VIDGATE_S3_ENDPOINT: `http://127.0.0.1:${closed}`, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' });
    assert.equal(noStorage.status, 2, noStorage.stderr);
    assert.equal(noStorage.stderr, `vidgate: VIDGATE_S3_ENDPOINT: cannot reach s3://vidgate-media/prod at http://127.0.0.1:${closed} (ECONNREFUSED); is the storage service running?\n`);
    const presignedOnDisk = serve({ VIDGATE_RESULT_URLS: 'presigned' });
    assert.match(presignedOnDisk.stderr, /^vidgate: invalid setting VIDGATE_RESULT_URLS: presigned needs storage that presigns URLs; set VIDGATE_STORAGE_URL=s3:\/\/bucket, or use proxy\n$/);

    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as AddressInfo).port;
      const taken = serve({ VIDGATE_PORT: String(port) });
      assert.equal(taken.status, 2, taken.stderr);
      assert.equal(taken.stderr, `vidgate: VIDGATE_PORT: 127.0.0.1:${port} is in use by another program; stop it, or set VIDGATE_PORT to a free port\n`);
    } finally {
      busy.close();
    }
  });

  it('warns about a VIDGATE_ variable it does not know, naming the closest setting', () => {
    const run = spawnSync(process.execPath, [MAIN, 'migrate'], { env: { ...process.env, VIDGATE_DATA_DIR: dataDir, VIDGATE_PROT: '9000', VIDGATE_XYZZY_PLUGH_QUUX: '1' }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^vidgate: warning: VIDGATE_PROT is not a vidgate setting and is ignored; did you mean VIDGATE_PORT\?$/m);
    assert.match(run.stderr, /^vidgate: warning: VIDGATE_XYZZY_PLUGH_QUUX is not a vidgate setting and is ignored; the README lists every setting$/m);
  });

  it('migrate brings the store up to date', () => {
    const run = spawnSync(process.execPath, [MAIN, 'migrate'], { env: { ...process.env, VIDGATE_DATA_DIR: dataDir }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /up to date/);
  });
});

describe('vidgate keys', () => {
  const keysDir = mkdtempSync(path.join(tmpdir(), 'vidgate-keys-'));
  after(() => rmSync(keysDir, { recursive: true, force: true }));
  const keys = (...args: string[]) =>
    spawnSync(process.execPath, [MAIN, 'keys', ...args], { env: { ...process.env, VIDGATE_DATA_DIR: keysDir }, encoding: 'utf8' });

  it('creates a key shown once with the user\'s webhook secret; the store keeps only its hash', async () => {
    const run = keys('create', '--user', 'olga', '--group', 'vip', '--credits', '50', '--models', 'wan2.7-text-to-video', '--rpm', '3', '--max-unfinished', '2');
    assert.equal(run.status, 0, run.stderr);
    const key = /sk-evo-[A-Za-z0-9]{40}/.exec(run.stdout)?.[0];
    assert.ok(key, run.stdout);
    assert.match(run.stdout, /whsec_[A-Za-z0-9+/=]{40,}/);
    const store = openStore({ data_dir: keysDir });
    try {
      const caller = await findCallerByKey(store.db, key);
      assert.deepEqual({ ...caller, keyId: '', userId: '', allowedModels: [...caller!.allowedModels!] }, {
        keyId: '', userId: '', userGroup: 'vip', allowedModels: ['wan2.7-text-to-video'], unlimited: false, rpm: 3, maxUnfinished: 2, role: 'user', userName: 'olga',
      });
      const admin = keys('create', '--user', 'ops', '--admin');
      const adminKey = /sk-adm-[A-Za-z0-9]{40}/.exec(admin.stdout)?.[0];
      assert.ok(adminKey, admin.stdout);
      assert.equal((await findCallerByKey(store.db, adminKey))?.role, 'admin', 'keys create --admin makes an admin');
    } finally {
      await store.close();
    }
    const list = keys('list');
    assert.equal(list.status, 0, list.stderr);
    assert.doesNotMatch(list.stdout, new RegExp(key.slice(12)));
    assert.match(list.stdout, /olga\s+vip\s+active\s+50 of 50/);
  });

  it('tops up a key or a user, disables a key, and says what is wrong with bad input', () => {
    const created = JSON.parse(keys('create', '--user', 'pia', '--credits', '10', '--json').stdout);
    assert.equal(keys('topup', created.id, '--credits', '15').status, 0);
    assert.equal(keys('topup', '--user', 'pia', '--credits', '5').status, 0);
    const [listed] = JSON.parse(keys('list', '--json').stdout).filter((k: any) => k.user === 'pia');
    assert.deepEqual([listed.allowance_credits, listed.remaining_credits, listed.user_balance_credits], [25, 25, 30]);
    assert.deepEqual(Object.keys(listed).filter((name) => /[A-Z]/.test(name)), [], 'the API\'s snake_case');
    assert.equal(listed.created, Math.floor(listed.created), 'Unix seconds');
    assert.equal(keys('topup', created.id, '--credits', '-1').stdout, 'took back 1 credits\n');
    const takeBack = keys('topup', created.id, '--credits', '-26');
    assert.equal(takeBack.status, 2);
    assert.match(takeBack.stderr, /^vidgate: --credits: the key's allowance has less than 26 credits left/);
    assert.match(keys('disable', created.id).stdout, /^disabled /);
    assert.match(keys('disable', created.key).stdout, /was already disabled/);
    const both = keys('create', '--user', 'pia', '--credits', '1', '--unlimited');
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--credits and --unlimited exclude each other/);
    const model = keys('create', '--user', 'pia', '--models', 'nope');
    assert.notEqual(model.status, 0);
    assert.match(model.stderr, /--models.*unknown model nope/);
    assert.match(keys('topup', 'no-such-key', '--credits', '1').stderr, /no key no-such-key/);
    assert.match(keys('create', '--user', 'pia', '--group', 'other').stderr, /--group: user pia is in group default/);
  });

  it('sets a user\'s own file quota, and back to the default', async () => {
    keys('create', '--user', 'quinn');
    assert.match(keys('file-quota', '--user', 'quinn', '--files', '5', '--reason', 'trial').stdout, /quinn may keep 5 files/);
    const read = async () => {
      const store = openStore({ data_dir: keysDir });
      try {
        const row = await store.db.selectFrom('users').select(['max_files', 'max_file_bytes', 'max_files_reason']).where('name', '=', 'quinn').executeTakeFirstOrThrow();
        return { ...row, max_file_bytes: row.max_file_bytes === null ? null : Number(row.max_file_bytes) };
      } finally {
        await store.close();
      }
    };
    assert.deepEqual(await read(), { max_files: 5, max_file_bytes: null, max_files_reason: 'trial' });
    assert.match(keys('file-quota', '--user', 'quinn', '--bytes', '500MiB').stdout, /quinn may keep 524288000 bytes/);
    assert.deepEqual(await read(), { max_files: 5, max_file_bytes: 524_288_000, max_files_reason: null });
    assert.match(keys('file-quota', '--user', 'quinn', '--files', 'default', '--bytes', 'default').stdout, /the default number of files and the default bytes/);
    assert.deepEqual(await read(), { max_files: null, max_file_bytes: null, max_files_reason: null });
    assert.match(keys('file-quota', '--user', 'quinn', '--bytes', 'lots').stderr, /must be a size such as/);
    assert.match(keys('file-quota', '--user', 'quinn').stderr, /say --files, --bytes or both/);
    assert.match(keys('file-quota', '--user', 'nobody', '--files', '1').stderr, /no user nobody/);
    assert.match(keys('file-quota', '--user', 'quinn', '--files', 'x').stderr, /not a whole number/);
  });
});

describe('vidgate usage', () => {
  const usageDir = mkdtempSync(path.join(tmpdir(), 'vidgate-usage-'));
  after(() => rmSync(usageDir, { recursive: true, force: true }));
  const usage = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'usage', ...args], { env: { ...process.env, VIDGATE_DATA_DIR: usageDir }, encoding: 'utf8' });

  it('prints the usage report as a table or JSON, and says what is wrong with bad input', async () => {
    const store = openStore({ data_dir: usageDir });
    try {
      await migrateToLatest(store.db);
      await seedTask(store, 'task-cli-usage', Date.now());
      await store.write((trx) => new TaskSettlement(new ResultFiles(new FileObjectStore(usageDir), { publicUrl: 'http://127.0.0.1' })).fail(trx, 'task-cli-usage', 'service_error', 'no', Date.now()));
    } finally {
      await store.close();
    }
    const table = usage('--by', 'user');
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^Usage by user, \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} \(UTC days\):\nUSER +TASKS +COMPLETED +FAILED/);
    assert.match(table.stdout, /\nu1 +1 +0 +1 +0 +0 +0 +0 /);
    const json = JSON.parse(usage('--by', 'model', '--json').stdout);
    assert.deepEqual(json.data.map((r: { model: string; failed: number }) => [r.model, r.failed]), [['wan2.7-text-to-video', 1]]);
    assert.match(usage('--since', '2001-01-01', '--until', '2001-01-02').stdout, /\(no tasks in these days\)/);
    assert.match(usage('--by', 'colour').stderr, /--by.*must be one of day, model, user, channel/);
    assert.match(usage('--since', '2001-02-30').stderr, /--since.*must be YYYY-MM-DD/);
    assert.match(usage('--since', '2030-01-02', '--until', '2030-01-01').stderr, /--since 2030-01-02 is after --until 2030-01-01/);
  });
});

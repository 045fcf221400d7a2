import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { until } from '../helpers/poll.ts';
import { processesWorkingIn, startVidgate, type VidgateProcess } from '../helpers/process.ts';
import { videoFacts } from '../helpers/video.ts';

const LONG_RENDER = { model: 'wan2.7-text-to-video', prompt: 'a long slow pan over mountains', quality: '1080p', duration: 10, seed: 5 };

async function pollUntil(vidgate: VidgateProcess, id: string, done: (task: any) => boolean, timeoutMs = 90_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  let progress = 0;
  for (;;) {
    const { body } = await vidgate.call('GET', `/v1/tasks/${id}`);
    assert.ok(body.progress >= progress, `progress fell from ${progress} to ${body.progress}`);
    progress = body.progress;
    if (done(body)) return body;
    if (Date.now() > end) throw new Error(`gave up waiting; task is ${JSON.stringify(body)}`);
    await sleep(100);
  }
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
}

function jobOf(dataDir: string, taskId: string): { state: string; attempts: number } {
  const db = new SQLite(path.join(dataDir, 'vidgate.sqlite'), { readonly: true });
  try {
    return db.prepare('select state, attempts from jobs where task_id = ?').get(taskId) as { state: string; attempts: number };
  } finally {
    db.close();
  }
}

describe('restarts', () => {
  const dirs: string[] = [];
  const running: VidgateProcess[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-restart-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (dataDir: string, env: Record<string, string> = {}) => {
    const vidgate = await startVidgate(['serve'], { VIDGATE_DATA_DIR: dataDir, VIDGATE_WORKER_POLL: '200ms', VIDGATE_WORKER_CONCURRENCY: '1', ...env });
    running.push(vidgate);
    return vidgate;
  };
  after(() => {
    for (const vidgate of running) vidgate.child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 during a render, then a restart: the task completes exactly once and leaves no temporary files', async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir, { VIDGATE_JOB_LEASE: '2s' });
    const created = await first.call('POST', '/v1/videos/generations', LONG_RENDER);
    assert.equal(created.status, 200);
    const id = created.body.id;
    await pollUntil(first, id, (task) => task.status === 'processing' && task.progress >= 10);
    assert.ok(files(path.join(dataDir, 'work')).length > 0, 'the render is under way in the work dir');
    const rendering = processesWorkingIn(dataDir);
    assert.ok(rendering.length > 0, 'ffmpeg renders for the first process');
    first.child.kill('SIGKILL');
    await first.exited;
    // The render has seconds to go: its ffmpeg is gone long before that only because it dies with its parent.
    await until(() => processesWorkingIn(dataDir).length === 0, "the killed process's ffmpeg died with it", 10_000);

    const second = await start(dataDir, { VIDGATE_JOB_LEASE: '2s' });
    const task = await pollUntil(second, id, (t) => t.status !== 'processing' && t.status !== 'pending');
    assert.equal(task.status, 'completed', JSON.stringify(task));
    assert.deepEqual(jobOf(dataDir, id), { state: 'done', attempts: 2 });
    assert.equal(files(path.join(dataDir, 'results')).length, 1, 'one result file');
    await until(() => files(path.join(dataDir, 'work')).length === 0, 'no temporary files'); // removed right after the commit that completes it
    assert.deepEqual(processesWorkingIn(dataDir), [], 'no ffmpeg left running from the killed process');
    const video = path.join(dataDir, 'results', files(path.join(dataDir, 'results'))[0]);
    assert.ok(Math.abs((await videoFacts(video)).durationSec - 10) < 0.1);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });

  it('SIGTERM hands a running job back, so the next start takes it up at once', async () => {
    const dataDir = newDataDir();
    // A lease far longer than the test: only a handed-back job can be picked up again in time.
    const first = await start(dataDir, { VIDGATE_JOB_LEASE: '10m', VIDGATE_SHUTDOWN_GRACE: '0s' });
    const { body } = await first.call('POST', '/v1/videos/generations', LONG_RENDER);
    await pollUntil(first, body.id, (task) => task.status === 'processing' && task.progress >= 5);
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.output());
    assert.deepEqual(jobOf(dataDir, body.id), { state: 'queued', attempts: 0 });
    assert.deepEqual(files(path.join(dataDir, 'work')), []);

    const second = await start(dataDir, { VIDGATE_JOB_LEASE: '10m' });
    const task = await pollUntil(second, body.id, (t) => t.status === 'completed' || t.status === 'failed');
    assert.equal(task.status, 'completed');
    assert.deepEqual(jobOf(dataDir, body.id), { state: 'done', attempts: 1 });
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('an API-only process and a separate worker process share one store', async () => {
    const dataDir = newDataDir();
    const api = await start(dataDir, {});
    api.child.kill('SIGTERM'); // the first start made the store and key; now split the roles
    await api.exited;
    const apiOnly = await startVidgate(['serve', '--no-worker'], { VIDGATE_DATA_DIR: dataDir });
    running.push(apiOnly);
    const { body } = await apiOnly.call('POST', '/v1/videos/generations', { model: 'wan2.7-text-to-video', prompt: 'split roles', duration: 2 });
    await sleep(1_500);
    assert.equal((await apiOnly.call('GET', `/v1/tasks/${body.id}`)).body.status, 'pending', 'no worker, no progress');
    const worker = await startVidgate(['worker'], { VIDGATE_DATA_DIR: dataDir, VIDGATE_WORKER_POLL: '200ms' });
    running.push(worker);
    const task = await pollUntil(apiOnly, body.id, (t) => t.status === 'completed' || t.status === 'failed', 30_000);
    assert.equal(task.status, 'completed');
    const video = await fetch(task.results[0]);
    assert.equal(video.status, 200, 'the API process serves what the worker made');
    worker.child.kill('SIGTERM');
    apiOnly.child.kill('SIGTERM');
    assert.deepEqual([await worker.exited, await apiOnly.exited], [0, 0]);
  });
});

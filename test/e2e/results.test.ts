import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { otherFileSystemDir } from '../helpers/dirs.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { until, waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('result files', () => {
  let server: TestServer;
  let media: MediaServer;

  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    server = await startTestServer(
      { VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_RESULT_TTL: '3s', VIDGATE_SWEEP_INTERVAL: '200ms' },
      { worker: true },
    );
  });
  after(async () => {
    await server.close();
    await media.close();
  });

  it('serves the video with Range, drops the inputs at completion, and deletes everything after the TTL', async () => {
    const body = { model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png'), duration: 2 };
    const created = await server.call('POST', '/v1/videos/generations', { body });
    const inputs = path.join(server.dataDir, 'inputs', created.body.id);
    assert.ok(existsSync(inputs), 'inputs kept for the job');
    const task = await waitForTask(server, created.body.id);
    assert.equal(task.status, 'completed');
    assert.equal(task.task_info.estimated_time, 0);
    await until(() => !existsSync(inputs), 'inputs dropped once the task is done'); // right after the commit that completes it
    const url: string = task.results[0];
    assert.match(url, new RegExp(`^${server.baseUrl}/v1/results/${task.id}-[a-z0-9]{20}\\.mp4$`));

    const whole = await fetch(url);
    const size = (await whole.arrayBuffer()).byteLength;
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${size}`);
    assert.equal((await part.arrayBuffer()).byteLength, 100);
    const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
    assert.equal((await tail.arrayBuffer()).byteLength, 10);

    const wrongSecret = url.replace(/-[a-z0-9]{20}\.mp4$/, `-${'a'.repeat(20)}.mp4`);
    for (const other of [wrongSecret, `${server.baseUrl}/v1/results/../vidgate.sqlite`, `${server.baseUrl}/v1/results/${task.id}.mp4`]) {
      const res = await fetch(other);
      assert.equal(res.status, 404, other);
    }

    const resultsDir = path.join(server.dataDir, 'results');
    assert.equal(readdirSync(resultsDir).length, 1);
    await sleep(3_500);
    const expired = await fetch(url);
    assert.equal(expired.status, 404);
    assert.equal(((await expired.json()) as { error: { code: string } }).error.code, 'not_found');
    await until(() => readdirSync(resultsDir).length === 0, 'the sweeper deleted the file');
    const after = await server.call('GET', `/v1/tasks/${task.id}`);
    assert.equal(after.body.status, 'completed', 'the task itself stays');
  });
});

describe('the sweeper and Idempotency-Keys', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ VIDGATE_SWEEP_INTERVAL: '100ms' }, { worker: true });
  });
  after(() => server.close());

  it('deletes keys past their 24 hours and keeps the others', async () => {
    const body = { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 };
    for (const key of ['old', 'fresh']) {
      const res = await server.call('POST', '/v1/videos/generations', { body, headers: { 'idempotency-key': key } });
      assert.equal(res.status, 200);
    }
    await server.app.db.updateTable('idempotency_keys').set({ expires_at: Date.now() - 1 }).where('key', '=', 'old').execute();
    const keys = async () => (await server.app.db.selectFrom('idempotency_keys').select('key').execute()).map((r) => r.key);
    await until(async () => (await keys()).length === 1, 'the stale entries were swept');
    assert.deepEqual(await keys(), ['fresh']);
  });
});

describe('a storage dir apart from the data dir (VIDGATE_STORAGE_DIR)', () => {
  let server: TestServer;
  let media: MediaServer;
  // Another file system where there is one, as a shared mount would be.
  const storage = otherFileSystemDir('vidgate-storage-') ?? mkdtempSync(path.join(tmpdir(), 'vidgate-storage-'));
  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_STORAGE_DIR: storage }, { worker: true });
  });
  after(async () => {
    await server.close();
    await media.close();
    rmSync(storage, { recursive: true, force: true });
  });

  it('keeps fetched media and results there, and the store and work files in the data dir', async () => {
    const body = { model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png'), duration: 2 };
    const created = await server.call('POST', '/v1/videos/generations', { body });
    assert.ok(existsSync(path.join(storage, 'inputs', created.body.id)), 'inputs fetched into the storage dir');
    const task = await waitForTask(server, created.body.id);
    assert.equal(task.status, 'completed', JSON.stringify(task));
    const name = path.basename(new URL(task.results[0]).pathname);
    assert.deepEqual(readdirSync(path.join(storage, 'results')), [name]);
    assert.equal(existsSync(path.join(server.dataDir, 'results')), false, 'no results folder in the data dir');
    assert.ok(existsSync(path.join(server.dataDir, 'vidgate.sqlite')));
    const video = await fetch(task.results[0]);
    assert.equal(video.status, 200);
    assert.equal(video.headers.get('content-type'), 'video/mp4');
    assert.ok((await video.arrayBuffer()).byteLength > 1000);
  });
});

describe('shutting down during a download', () => {
  it('cuts a download the client stopped reading once the shutdown grace is over, instead of waiting for it', async () => {
    const server = await startTestServer({ VIDGATE_SHUTDOWN_GRACE: '500ms' }, { worker: true });
    let closing: Promise<void> | null = null;
    const patience = new AbortController();
    try {
      const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 } });
      const task = await waitForTask(server, created.body.id);
      assert.equal(task.status, 'completed');
      // Far more than the socket buffers hold, so the answer is surely still being written.
      writeFileSync(path.join(server.dataDir, 'results', path.basename(new URL(task.results[0]).pathname)), Buffer.alloc(64 << 20));
      const stalled = await fetch(task.results[0]); // headers read, body never: the server's socket buffer fills and it waits
      assert.equal(stalled.status, 200);
      closing = server.close();
      const closed = await Promise.race([closing.then(() => 'closed'), sleep(30_000, undefined, { signal: patience.signal }).then(() => 'still open after 30 s')]);
      assert.equal(closed, 'closed');
      await assert.rejects(stalled.arrayBuffer(), 'the cut download does not pass for whole');
    } finally {
      patience.abort();
      await (closing ?? server.close()); // a failure above must not leave the server holding the test process open
    }
  });
});

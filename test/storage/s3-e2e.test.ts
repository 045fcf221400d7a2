import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openObjectStore } from '../../src/storage/index.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { type MediaServer, startMediaServer } from '../helpers/media-server.ts';
import { until, waitForTask } from '../helpers/poll.ts';
import { S3_CREDENTIALS, type S3Server, startS3Server } from '../helpers/s3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

Object.assign(process.env, S3_CREDENTIALS); // the in-process vidgate's SDK reads them

const PNG = readFileSync(path.join(fixturesDir(), 'image-640x360.png'));

let s3: S3Server;
let media: MediaServer;
before(async () => {
  s3 = await startS3Server();
  media = await startMediaServer(fixturesDir(), '127.0.0.2');
});
after(async () => {
  await media.close();
  await s3.close();
});

/** The keys under `prefix` in the bucket, as vidgate's own store lists them. */
async function keysUnder(server: TestServer, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of openObjectStore(server.app.settings.storage).list(prefix, 1000)) keys.push(...batch.map((object) => object.key));
  return keys;
}

async function upload(server: TestServer): Promise<any> {
  const form = new FormData();
  form.set('file', new Blob([PNG], { type: 'image/png' }), 'frame.png');
  const res = await fetch(`${server.baseUrl}/api/v1/files/upload/stream`, { method: 'POST', headers: { authorization: `Bearer ${server.key}` }, body: form });
  const body = (await res.json()) as any;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.data;
}

for (const mode of ['proxy', 'redirect', 'presigned'] as const) {
  describe(`S3 storage with VIDGATE_RESULT_URLS=${mode}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ ...s3.env, VIDGATE_STORAGE_URL: `s3://${s3.bucket}/${mode}`, VIDGATE_RESULT_URLS: mode, VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
    });
    after(() => server.close());

    it('keeps an upload in the bucket and hands it out the way the mode says', async () => {
      const file = await upload(server);
      const stored = await keysUnder(server, 'files/');
      assert.deepEqual(stored, [`files/${file.file_id}.png`], 'the upload is an object, nothing on a shared disk');
      for (const url of [file.file_url, file.download_url]) {
        if (mode === 'presigned') assert.ok(url.startsWith(`${s3.endpoint}/${s3.bucket}/${mode}/files/`), url);
        else assert.ok(url.startsWith(server.baseUrl), url);
        const manual = await fetch(url, { redirect: 'manual' });
        if (mode === 'redirect') {
          assert.equal(manual.status, 302);
          assert.ok(manual.headers.get('location')!.startsWith(`${s3.endpoint}/${s3.bucket}/`));
        }
        const whole = await fetch(url);
        assert.equal(whole.status, 200);
        assert.deepEqual(Buffer.from(await whole.arrayBuffer()), PNG);
        const part = await fetch(url, { headers: { range: 'bytes=1-3' } });
        assert.equal(part.status, 206);
        assert.equal(Buffer.from(await part.arrayBuffer()).toString('latin1'), 'PNG');
      }
      const download = await fetch(file.download_url);
      assert.equal(download.headers.get('content-disposition'), `attachment; filename="${file.file_name}"`);

      // The file URL, whatever its form, starts a task: read from the bucket, not fetched through the outbound guard.
      const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-image-to-video', image_start: file.file_url, duration: 2 } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal((await waitForTask(server, created.body.id)).status, 'completed');
    });

    it('stores a task\'s inputs and result in the bucket, serves the result with Range, and drops the inputs once done', async () => {
      const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png'), duration: 2 } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const task = await waitForTask(server, created.body.id);
      assert.equal(task.status, 'completed', JSON.stringify(task.error));
      await until(async () => (await keysUnder(server, `inputs/${task.id}/`)).length === 0, 'inputs dropped once the task is done');
      const result = (await keysUnder(server, 'results/')).find((key) => key.startsWith(`results/${task.id}-`));
      assert.match(result ?? '', new RegExp(`^results/${task.id}-[a-z0-9]{20}\\.mp4$`));
      const url: string = task.results[0];
      if (mode === 'presigned') assert.ok(url.startsWith(`${s3.endpoint}/${s3.bucket}/${mode}/results/`), url);
      else assert.equal(url, `${server.baseUrl}/v1/${result}`);
      const part = await fetch(url, { headers: { range: 'bytes=4-7' } });
      assert.equal(part.status, 206);
      assert.equal(Buffer.from(await part.arrayBuffer()).toString('latin1'), 'ftyp', 'an MP4 from its first box');
      const again = await server.call('GET', `/v1/tasks/${task.id}`);
      assert.equal(again.body.results[0], url, 'the same URL on every read');
    });
  });
}

describe('S3 storage faults', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ ...s3.env, VIDGATE_STORAGE_URL: `s3://${s3.bucket}/faults`, VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_RETRY_BASE: '100ms', VIDGATE_RETRY_MAX: '300ms' }, { worker: true });
  });
  after(() => server.close());

  it('an outage at create answers 503 and reserves nothing; /readyz turns unready', async () => {
    const credits = async () => (await server.call('GET', '/v1/credits')).body.data.token.remaining_credits;
    const before = await credits();
    await s3.stop();
    try {
      const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png'), duration: 2 } });
      assert.equal(created.status, 503, JSON.stringify(created.body));
      assert.equal(created.body.error.code, 'service_unavailable');
      assert.match(created.body.error.message, /^storage: /);
      assert.equal(await credits(), before, 'nothing reserved');
      const ready = await fetch(`${server.baseUrl}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'not ready', store: 'ok', storage: 'unreachable' });
    } finally {
      await s3.start();
    }
    assert.equal((await fetch(`${server.baseUrl}/readyz`)).status, 200);
  });

  it('an outage while a worker publishes retries the job, never completing it without its object', async () => {
    await s3.stop();
    let id = '';
    try {
      const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'a storm over the sea', duration: 2 } });
      assert.equal(created.status, 200, 'a task without media does not need the storage to be created');
      id = created.body.id;
      await until(async () => {
        const job = await server.app.db.selectFrom('jobs').select(['attempts', 'last_error']).where('task_id', '=', id).executeTakeFirstOrThrow();
        return job.attempts >= 1 && /storage/.test(job.last_error ?? '');
      }, 'the publish failed and the job was put back');
      assert.equal((await server.call('GET', `/v1/tasks/${id}`)).body.status === 'completed', false);
    } finally {
      await s3.start();
    }
    const task = await waitForTask(server, id);
    assert.equal(task.status, 'completed');
    assert.ok((await keysUnder(server, 'results/')).some((key) => key.startsWith(`results/${id}-`)));
  });
});

describe('S3 storage expiry', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ ...s3.env, VIDGATE_STORAGE_URL: `s3://${s3.bucket}/expiry`, VIDGATE_RESULT_TTL: '2s', VIDGATE_SWEEP_INTERVAL: '200ms' }, { worker: true });
  });
  after(() => server.close());

  it('stops serving a result at its expiry and the sweeper deletes its object', async () => {
    const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'fog', duration: 2 } });
    const task = await waitForTask(server, created.body.id);
    assert.equal(task.status, 'completed');
    await until(async () => (await keysUnder(server, 'results/')).length === 0, 'the sweeper deleted the result object');
    assert.equal((await fetch(task.results[0])).status, 404);
  });
});

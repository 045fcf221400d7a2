import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openAsBlob, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CreateTaskRequest, type Task, VidgateApiError, VidgateClient, VidgateTaskError } from '../../src/sdk/index.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// The request type is the model schemas' input: these must not compile (tsc runs over the tests).
// @ts-expect-error duration is a number of seconds
const badDuration: CreateTaskRequest = { model: 'wan2.7-text-to-video', prompt: 'x', duration: 'long' };
// @ts-expect-error no such model
const badModel: CreateTaskRequest = { model: 'sora', prompt: 'x' };
const goodEdit: CreateTaskRequest = { model: 'happyhorse-1.0-video-edit', prompt: 'rain', video_url: 'https://example.test/a.mp4' };
void [badDuration, badModel, goodEdit];

describe('the SDK against a real vidgate', () => {
  let server: TestServer;
  let client: VidgateClient;
  before(async () => {
    server = await startTestServer({}, { worker: true });
    client = new VidgateClient({ baseUrl: server.baseUrl, apiKey: server.key });
  });
  after(() => server.close());

  it('creates a task, waits with progress, and downloads the video', async () => {
    const created = await client.createTask({ model: 'wan2.7-text-to-video', prompt: 'a red kite', duration: 2 }, { idempotencyKey: 'sdk-kite' });
    assert.equal((await client.createTask({ model: 'wan2.7-text-to-video', prompt: 'a red kite', duration: 2 }, { idempotencyKey: 'sdk-kite' })).id, created.id);
    const seen: Task[] = [];
    const done = await client.waitForTask(created.id, { intervalMs: 100, maxIntervalMs: 200, onProgress: (task) => seen.push(task) });
    assert.equal(done.status, 'completed');
    assert.ok(seen.length >= 2 && seen.at(-1)!.status === 'completed');
    assert.ok(seen.every((task, i) => i === 0 || task.progress >= seen[i - 1].progress), 'progress never goes back');
    const video = await client.download(done.results![0]);
    assert.equal(video.headers.get('content-type'), 'video/mp4');
    assert.ok((await video.arrayBuffer()).byteLength > 1000);
    assert.equal((await client.listTasks({ limit: 1 })).data[0].id, created.id);
    assert.ok((await client.credits()).user.remaining_credits > 0);
    const models = await client.models();
    assert.equal(models.length, 74);
    const detail = await client.model('seedance-2.0-text-to-video');
    assert.deepEqual([detail.family, detail.kind, detail.billing_rule, Object.keys(detail.prices)], ['seedance', 't2v', 'per_second', ['480p', '720p', '1080p', '4k']]);
  });

  it("follows a task over its event stream, without polling", async () => {
    const requests: string[] = [];
    const counting = new VidgateClient({ baseUrl: server.baseUrl, apiKey: server.key, fetch: (input, init) => (requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`), fetch(input, init)) });
    const created = await counting.createTask({ model: 'wan2.7-text-to-video', prompt: 'streamed', duration: 2 });
    const seen: Task[] = [];
    const done = await counting.waitForTask(created.id, { onProgress: (task) => seen.push(task) });
    assert.equal(done.status, 'completed');
    assert.ok(seen.length >= 2);
    assert.deepEqual(requests.slice(1), [`GET /v1/tasks/${created.id}/events`], 'one stream, no polls');
  });

  it('falls back to polling when the stream breaks', async () => {
    const requests: string[] = [];
    // The stream's connection dies after its first chunk (the task as it is).
    const breaking: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      requests.push(url.pathname);
      const response = await fetch(input, init);
      if (!url.pathname.endsWith('/events')) return response;
      const reader = response.body!.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value } = await reader.read();
          controller.enqueue(value!);
          void reader.cancel();
          controller.error(new TypeError('terminated'));
        },
      });
      return new Response(body, { status: 200, headers: response.headers });
    };
    const flaky = new VidgateClient({ baseUrl: server.baseUrl, apiKey: server.key, fetch: breaking });
    const created = await flaky.createTask({ model: 'wan2.7-text-to-video', prompt: 'cut off', duration: 2 });
    const done = await flaky.waitForTask(created.id, { intervalMs: 100, maxIntervalMs: 200 });
    assert.equal(done.status, 'completed');
    assert.ok(requests.includes(`/v1/tasks/${created.id}/events`));
    assert.ok(requests.filter((p) => p === `/v1/tasks/${created.id}`).length >= 1, 'then polled');
  });

  it('uploads a local file (streamed from disk) and uses its file_url as a task input', async () => {
    const file = await client.uploadFile(await openAsBlob(path.join(fixturesDir(), 'image-640x360.png')), { fileName: 'start.png' });
    assert.equal(file.mime_type, 'image/png');
    const task = await client.createTask({ model: 'wan2.7-image-to-video', image_start: file.file_url, duration: 2 });
    assert.equal(task.status, 'pending');
    assert.equal((await client.fileQuota()).used_files, 1);
    await client.cancelTask(task.id);
  });

  it('throws typed errors carrying the EvoLink codes', async () => {
    const bad = await client.createTask({ model: 'wan2.7-text-to-video', prompt: 'x', duration: 99 }).catch((e) => e);
    assert.ok(bad instanceof VidgateApiError);
    assert.deepEqual([bad.status, bad.code, bad.type, bad.param], [400, 'invalid_request', 'invalid_request_error', 'duration']);
    const missing = await client.getTask('task-unified-1700000000-zzzzzzzz').catch((e) => e);
    assert.deepEqual([missing.status, missing.code], [404, 'task_not_found']);
    const anonymous = new VidgateClient({ baseUrl: server.baseUrl, apiKey: 'sk-evo-nope' });
    assert.equal((await anonymous.credits().catch((e) => e)).code, 'unauthorized');
  });

  it('stops waiting when aborted, and reports a cancelled task as a task error', async () => {
    const task = await client.createTask({ model: 'wan2.7-text-to-video', prompt: 'a long one', duration: 10, quality: '1080p' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user gave up')), 300);
    const aborted = await client.waitForTask(task.id, { intervalMs: 100, signal: controller.signal }).catch((e) => e);
    assert.equal(aborted.message, 'user gave up');
    await client.cancelTask(task.id);
    const ended = await client.waitForTask(task.id).catch((e) => e);
    assert.ok(ended instanceof VidgateTaskError);
    assert.equal(ended.code, 'request_cancelled');
    assert.equal(ended.task.status, 'cancelled');
  });
});

describe('vidgate/sdk for an installed package', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-sdk-consumer-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports from node_modules as plain JavaScript (Node strips no types there)', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const pkg = path.join(dir, 'node_modules', 'vidgate');
    mkdirSync(pkg, { recursive: true });
    execFileSync(process.execPath, [path.join(root, 'scripts/build-sdk.ts')], { env: { ...process.env, VIDGATE_SDK_OUT: path.join(pkg, 'dist') } });
    cpSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    writeFileSync(path.join(dir, 'app.mjs'), "import { VidgateClient, VidgateApiError } from 'vidgate/sdk';\nconsole.log(typeof VidgateClient, typeof VidgateApiError);\n");
    assert.equal(execFileSync(process.execPath, [path.join(dir, 'app.mjs')], { cwd: dir, encoding: 'utf8' }).trim(), 'function function');
  });
});

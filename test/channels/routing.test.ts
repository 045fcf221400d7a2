import assert from 'node:assert/strict';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { startFakeDashScope, type FakeDashScope } from '../fakes/dashscope.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const T2V = { model: 'wan2.7-text-to-video', prompt: 'routing', duration: 2 };

function channel(name: string, fake: FakeDashScope, extra: Record<string, unknown> = {}) {
  return { name, engine: 'dashscope', base_url: fake.baseUrl, api_key_env: 'FAKE_KEY', poll_interval: '100ms', request_timeout: '2s', ...extra };
}

// Two fake DashScopes behind one vidgate: which gets what, and when.
describe('routing across channels', () => {
  let high: FakeDashScope;
  let low: FakeDashScope;
  const servers: TestServer[] = [];

  before(async () => {
    const video = path.join(fixturesDir(), 'clip-1s-640x360.mp4');
    high = await startFakeDashScope({ video, apiKey: 'sk-shared' });
    low = await startFakeDashScope({ video, apiKey: 'sk-shared' });
  });
  afterEach(async () => {
    while (servers.length) await servers.pop()!.close();
    for (const fake of [high, low]) {
      fake.creates.length = 0;
      fake.nextSubmits.length = 0;
      fake.queries.total = 0;
      fake.script = () => ({ queueMs: 50, runMs: 200 });
    }
  });
  after(async () => {
    await high.close();
    await low.close();
  });

  async function gateway(channels: unknown[], env: Record<string, string> = {}) {
    const server = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify(channels), FAKE_KEY: 'sk-shared', ...env }, { worker: true });
    servers.push(server);
    return server;
  }

  async function run(server: TestServer, body: Record<string, unknown> = T2V) {
    const created = await server.call('POST', '/v1/videos/generations', { body });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return waitForTask(server, created.body.id, 30_000);
  }

  it('sends a task to the highest priority channel, and polls only the channel that accepted it', async () => {
    const server = await gateway([channel('low', low, { priority: 0 }), channel('high', high, { priority: 10 })]);
    const task = await run(server);
    assert.equal(task.status, 'completed');
    assert.equal(high.creates.length, 1);
    assert.equal(low.creates.length, 0);
    assert.ok(high.queries.total > 0, 'the accepting channel was polled');
    assert.equal(low.queries.total, 0, 'the other was never asked about it');
  });

  it('fails over on 429 and 5xx before acceptance, never back to a channel it tried, and sticks to the one that accepted', async () => {
    const server = await gateway([channel('high', high, { priority: 10 }), channel('low', low, { priority: 0 })]);
    high.nextSubmits.push({ status: 500, code: 'InternalError' });
    const task = await run(server);
    assert.equal(task.status, 'completed');
    assert.deepEqual([high.creates.length, low.creates.length], [1, 1]);
    assert.equal(high.queries.total, 0, 'every later call went to the channel that accepted');

    high.nextSubmits.push({ status: 429, code: 'Throttling.RateQuota' });
    low.nextSubmits.push({ status: 503, code: 'ServiceUnavailable' });
    const failed = await run(server);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 'service_unavailable');
    assert.deepEqual([high.creates.length, low.creates.length], [2, 2], 'each channel tried once for the second task');
    assert.equal(failed.usage.credits_charged, 0);
  });

  it('a full channel queues tasks instead of failing them: never more than max_concurrency upstream at once', async () => {
    const server = await gateway([channel('high', high, { max_concurrency: 1 })]);
    high.script = () => ({ runMs: 400 });
    const created = await Promise.all([1, 2, 3].map(() => server.call('POST', '/v1/videos/generations', { body: T2V })));
    const tasks = await Promise.all(created.map((c) => waitForTask(server, c.body.id, 30_000)));
    assert.deepEqual(tasks.map((t) => t.status), ['completed', 'completed', 'completed']);
    const upstream = [...high.tasks.values()].slice(-3).sort((a, b) => a.createdAt - b.createdAt);
    for (let i = 1; i < upstream.length; i += 1) {
      assert.ok(upstream[i].createdAt >= high.endTime(upstream[i - 1]), 'the next was submitted only after the previous finished');
    }
  });

  it('answers 503 at create for a model no channel serves', async () => {
    const server = await gateway([channel('high', high, { models: ['wan2.7-text-to-video'] })]);
    const res = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-video-edit', video_urls: ['http://127.0.0.2/x.mp4'] } });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'service_unavailable');
    assert.match(res.body.error.message, /^model: /);
  });

  it('fetches a result on another origin only through the outbound guard', async () => {
    const server = await gateway([channel('high', high)], { VIDGATE_JOB_ATTEMPTS: '2', VIDGATE_RETRY_BASE: '100ms' });
    const port = new URL(high.baseUrl).port;
    high.resultOrigin = `http://localhost:${port}`; // the same server under another name: refused, not on the allow-list
    try {
      const task = await run(server);
      assert.equal(task.status, 'failed');
      assert.equal(task.error.code, 'service_error');
      assert.equal(task.usage.credits_charged, 0);
    } finally {
      high.resultOrigin = null;
    }
  });
});

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeDashScope, type FakeDashScope } from '../fakes/dashscope.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { checkLedgerInvariants } from '../helpers/ledger.ts';
import { waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('upstream results are capped (CONTRACT §8.10)', () => {
  let fake: FakeDashScope;
  let server: TestServer;
  before(async () => {
    fake = await startFakeDashScope({ video: path.join(fixturesDir(), 'clip-1s-640x360.mp4') });
    const channel = { name: 'ali', engine: 'dashscope', base_url: fake.baseUrl, api_key_env: 'FAKE_DASHSCOPE_KEY', poll_interval: '100ms' };
    // The fixture clip is some tens of KB: a 4 KiB cap makes it an oversized result.
    server = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify([channel]), FAKE_DASHSCOPE_KEY: fake.apiKey, VIDGATE_RESULT_MAX_BYTES: '4KiB' }, { worker: true });
  });
  after(async () => {
    await server.close();
    await fake.close();
  });

  it('fails a task whose result is over VIDGATE_RESULT_MAX_BYTES, released in full, keeping no part of it', async () => {
    fake.script = () => ({ queueMs: 20, runMs: 50 });
    const created = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'huge', duration: 2 } });
    const task = await waitForTask(server, created.body.id);
    assert.equal(task.status, 'failed');
    assert.equal(task.error.code, 'service_error');
    assert.match(task.error.message, /result is larger than the 4 KB/);
    assert.equal(task.usage.credits_charged, 0);
    await checkLedgerInvariants(server.app.db);
  });
});

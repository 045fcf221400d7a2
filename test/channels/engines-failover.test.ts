import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeDashScope, type FakeDashScope } from '../fakes/dashscope.ts';
import { type FakeFal, startFakeFal } from '../fakes/fal.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { videoFacts } from '../helpers/video.ts';

// One catalog model on three engines: DashScope first, fal next, the local engine last.
describe('failover across engines for one catalog model', () => {
  let dashscope: FakeDashScope;
  let fal: FakeFal;
  let media: MediaServer;
  let server: TestServer;
  const body = { model: 'happyhorse-1.0-text-to-video', prompt: 'a horse in the surf', duration: 3 };

  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    dashscope = await startFakeDashScope({ video: path.join(fixturesDir(), 'clip-1s-640x360.mp4') });
    fal = await startFakeFal({ videoUrl: media.url('clip-1s-640x360.mp4') });
    const channels = [
      { name: 'ali', engine: 'dashscope', base_url: dashscope.baseUrl, api_key_env: 'DS_KEY', priority: 30, poll_interval: '100ms' },
      { name: 'fal', engine: 'fal', base_url: fal.baseUrl, storage_url: fal.baseUrl, api_key_env: 'FAL_KEY', priority: 20, poll_interval: '100ms' },
      { name: 'preview', engine: 'local', priority: 10 },
    ];
    server = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify(channels), DS_KEY: dashscope.apiKey, FAL_KEY: fal.apiKey, VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
  });
  after(async () => {
    await server.close();
    await dashscope.close();
    await fal.close();
    await media.close();
  });

  async function run() {
    const created = await server.call('POST', '/v1/videos/generations', { body });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return waitForTask(server, created.body.id, 30_000);
  }
  /** The channel that made the task (its name is stored as the task's engine). */
  const channelOf = async (id: string) => (await server.app.db.selectFrom('tasks').select('engine').where('id', '=', id).executeTakeFirstOrThrow()).engine;

  it('goes to DashScope while it is well, skips it while it rests, and falls from fal to the local engine', async () => {
    const first = await run();
    assert.equal(first.status, 'completed');
    assert.equal(await channelOf(first.id), 'ali');
    assert.equal(dashscope.creates.length, 1);

    // DashScope rests (as after failures in a row): fal takes the next task.
    await server.app.db.updateTable('channel_health').set({ unhealthy_until: Date.now() + 600_000 }).where('name', '=', 'ali').execute();
    const second = await run();
    assert.equal(second.status, 'completed');
    assert.equal(await channelOf(second.id), 'fal');
    assert.equal(dashscope.creates.length, 1, 'the resting channel was not tried');
    assert.equal(fal.submits.at(-1)!.endpoint, 'alibaba/happy-horse/text-to-video');

    // fal is down too: the local engine makes the preview.
    fal.nextSubmits.push(503);
    const third = await run();
    assert.equal(third.status, 'completed');
    assert.equal(await channelOf(third.id), 'preview');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'vidgate-failover-')), 'preview.mp4');
    writeFileSync(file, Buffer.from(await (await fetch(third.results[0])).arrayBuffer()));
    const facts = await videoFacts(file);
    assert.deepEqual([facts.width, facts.height, facts.fps, facts.frames], [1280, 720, 24, 72], 'the local preview of the model: 720p 16:9, 24 fps, 3 s');
    rmSync(path.dirname(file), { recursive: true, force: true });
  });
});

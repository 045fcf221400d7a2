import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { until, untilAccepted, waitForTask } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// A vidgate whose only channel is another vidgate (local engine), reached over the EvoLink API.
describe('the evolink engine against a second vidgate', () => {
  let upstream: TestServer;
  let gateway: TestServer;
  let media: MediaServer;
  let upstreamKey: string;

  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    upstream = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
    upstreamKey = await upstream.newKey({ user: 'gateway', userCredits: 10_000 * 1_000_000 });
    const channel = { name: 'upstream-vidgate', engine: 'evolink', base_url: upstream.baseUrl, api_key_env: 'UPSTREAM_KEY', poll_interval: '200ms', request_timeout: '5s' };
    gateway = await startTestServer(
      { VIDGATE_CHANNELS: JSON.stringify([channel]), UPSTREAM_KEY: upstreamKey, VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' },
      { worker: true },
    );
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    await media.close();
  });

  it('forwards the request, follows the upstream task and copies results[0] home', async () => {
    const body = { model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png'), duration: 2, seed: 9, prompt: 'a pan' };
    const created = await gateway.call('POST', '/v1/videos/generations', { body });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const task = await waitForTask(gateway, created.body.id, 60_000);
    assert.equal(task.status, 'completed', JSON.stringify(task));
    assert.ok(task.results[0].startsWith(gateway.baseUrl), 'served by the gateway itself');

    const upstreamTasks = await upstream.app.db.selectFrom('tasks').selectAll().execute();
    assert.equal(upstreamTasks.length, 1, 'one upstream task');
    const [theirs] = upstreamTasks;
    assert.equal(theirs.model, 'wan2.7-image-to-video');
    assert.equal(theirs.seed, 9);
    assert.equal(JSON.parse(theirs.params_json).prompt, 'a pan');
    // Uploaded through the upstream's Files API (the default input_delivery): it read the bytes we probed, never the client's URL.
    const [input] = await upstream.app.db.selectFrom('task_inputs').selectAll().where('task_id', '=', theirs.id).execute();
    assert.match(input.url, new RegExp(`^${upstream.baseUrl}/files/file_[a-z0-9]{24}/[0-9a-f]{64}\\.png$`));
    assert.equal(media.hits.filter((hit) => hit === '/image-640x360.png').length, 1, 'the client\'s server was asked once, by the gateway');
    const theirView = (await upstream.call('GET', `/v1/tasks/${theirs.id}`, { key: upstreamKey })).body;
    const [ours, original] = await Promise.all([fetch(task.results[0]), fetch(theirView.results[0])]);
    assert.deepEqual(Buffer.from(await ours.arrayBuffer()), Buffer.from(await original.arrayBuffer()), 'the same bytes');
  });

  it('relays a catalog model with its own fields only, its media where the client put them, nested ones too (CONTRACT §9.4)', async () => {
    const bodies = [
      { model: 'seedance-2.0-mini-image-to-video', prompt: 'morph', duration: 4, quality: '480p', image_urls: [media.url('image-640x360.png'), media.url('image-800x600.webp')] },
      {
        model: 'kling-custom-element',
        model_params: {
          element_name: 'Robot', element_description: 'a red robot', reference_type: 'image_refer',
          element_image_list: { frontal_image: media.url('image-640x360.png'), refer_images: [{ image_url: media.url('image-800x600.webp') }] },
        },
      },
    ];
    for (const body of bodies) {
      const created = await gateway.call('POST', '/v1/videos/generations', { body });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const task = await waitForTask(gateway, created.body.id, 60_000);
      assert.equal(task.status, 'completed', JSON.stringify(task));
      const theirs = await upstream.app.db.selectFrom('tasks').selectAll().where('model', '=', body.model).executeTakeFirstOrThrow();
      const params = JSON.parse(theirs.params_json);
      assert.equal(params.quality, (body as { quality?: string }).quality, 'no quality added where the client sent none');
      assert.equal(params.seed, undefined, 'no seed added: the client sent none');
      const inputs = await upstream.app.db.selectFrom('task_inputs').select(['field', 'url', 'width']).where('task_id', '=', theirs.id).orderBy('field').execute();
      const expected = body.model === 'kling-custom-element'
        ? [['model_params.element_image_list.frontal_image', 640], ['model_params.element_image_list.refer_images[0].image_url', 800]]
        : [['image_urls[0]', 640], ['image_urls[1]', 800]];
      assert.deepEqual(inputs.map((input) => [input.field, input.width]), expected);
      for (const input of inputs) assert.ok(input.url.startsWith(`${upstream.baseUrl}/files/`), 'uploaded through the Files API, never the client\'s URL');
    }
  });

  it('cancels the upstream task when the task is cancelled', async () => {
    const created = await gateway.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'long one', duration: 15, quality: '1080p' } });
    await untilAccepted(gateway, created.body.id);
    const theirs = await upstream.app.db.selectFrom('tasks').select(['id', 'status']).where('status', 'in', ['pending', 'processing']).executeTakeFirstOrThrow();
    const cancelled = await gateway.call('DELETE', `/v1/tasks/${created.body.id}`);
    assert.equal(cancelled.status, 200);
    await until(async () => (await upstream.app.db.selectFrom('tasks').select('status').where('id', '=', theirs.id).executeTakeFirstOrThrow()).status === 'cancelled',
      'the upstream task was cancelled too');
  });

  it('fails with service_unavailable, all released, when the upstream account has no credits', async () => {
    const broke = await upstream.newKey({ user: 'broke', userCredits: 0 });
    const channel = { name: 'broke', engine: 'evolink', base_url: upstream.baseUrl, api_key_env: 'BROKE_KEY', poll_interval: '200ms' };
    const second = await startTestServer({ VIDGATE_CHANNELS: JSON.stringify([channel]), BROKE_KEY: broke }, { worker: true });
    try {
      const created = await second.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 } });
      const task = await waitForTask(second, created.body.id, 20_000);
      assert.equal(task.status, 'failed');
      assert.equal(task.error.code, 'service_unavailable');
      assert.equal(task.usage.credits_charged, 0);
      assert.ok(!JSON.stringify(task).includes(upstream.baseUrl), 'no upstream address in the task');
    } finally {
      await second.close();
    }
  });
});

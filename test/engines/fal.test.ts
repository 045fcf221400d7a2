import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type FakeFal, startFakeFal } from '../fakes/fal.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { until, untilAccepted, waitForTask } from '../helpers/poll.ts';
import { freePort, startTestServer, type TestServer } from '../helpers/server.ts';

/** The input with every fal storage URL swapped back for the media-server URL of the fixture whose bytes it holds. */
function withClientUrls(fake: FakeFal, input: unknown): unknown {
  const fixtures = fixturesDir();
  return JSON.parse(JSON.stringify(input), (_key, value) => {
    const stored = typeof value === 'string' ? fake.storage.get(value) : undefined;
    if (!stored) return value;
    const name = readdirSync(fixtures).find((file) => readFileSync(path.join(fixtures, file)).equals(stored.bytes));
    assert.ok(name, `${value} holds a fixture's exact bytes`);
    return `${mediaOrigin}/${name}`;
  });
}
let mediaOrigin = '';

describe('the fal engine against a fake fal queue', () => {
  let fake: FakeFal;
  let media: MediaServer;
  let polled: TestServer;
  let hooked: TestServer;

  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    mediaOrigin = media.origin;
    // The result lives on another origin (a CDN): fetched through the guard, allowed here.
    fake = await startFakeFal({ videoUrl: media.url('clip-1s-640x360.mp4') });
    const base = { engine: 'fal', base_url: fake.baseUrl, storage_url: fake.baseUrl, api_key_env: 'FAL_KEY', request_timeout: '500ms' };
    const env = { FAL_KEY: fake.apiKey, VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' };
    polled = await startTestServer({ ...env, VIDGATE_CHANNELS: JSON.stringify([{ ...base, name: 'fal', poll_interval: '100ms' }]) }, { worker: true });
    // Polls rarely: only fal's webhook can finish its tasks quickly.
    const port = await freePort();
    const webhook = { ...base, name: 'fal-hooks', poll_interval: '60s', webhook_url: `http://127.0.0.1:${port}`, webhook_jwks_url: `${fake.baseUrl}/.well-known/jwks.json`, fal_user_id: 'user-1' };
    hooked = await startTestServer({ ...env, VIDGATE_PORT: String(port), VIDGATE_CHANNELS: JSON.stringify([webhook]) }, { worker: true });
  });
  after(async () => {
    await polled.close();
    await hooked.close();
    await fake.close();
    await media.close();
  });
  beforeEach(() => {
    fake.submits.length = 0;
    fake.calls.length = 0;
    fake.nextSubmits.length = 0;
    fake.script = () => ({ queueMs: 50, runMs: 200, outcome: 'ok' });
  });

  async function run(server: TestServer, body: Record<string, unknown>, timeoutMs = 20_000) {
    const created = await server.call('POST', '/v1/videos/generations', { body });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return waitForTask(server, created.body.id, timeoutMs);
  }

  it('submits each model\'s input to its endpoint, follows the returned URLs and copies the video home', async () => {
    const image = media.url('image-640x360.png');
    const clip = media.url('clip-5s-640x360.mp4');
    const cases: [Record<string, unknown>, string, unknown][] = [
      [{ model: 'wan2.7-text-to-video', prompt: 'p', negative_prompt: 'n', duration: 3, aspect_ratio: '4:3', quality: '1080p', seed: 7 }, 'fal-ai/wan/v2.7/text-to-video',
        { prompt: 'p', negative_prompt: 'n', resolution: '1080p', aspect_ratio: '4:3', duration: 3, enable_prompt_expansion: false, seed: 7 }],
      [{ model: 'wan2.7-image-to-video', image_start: image, prompt: 'q', duration: 2, seed: 8 }, 'fal-ai/wan/v2.7/image-to-video',
        { prompt: 'q', image_url: image, resolution: '720p', duration: 2, enable_prompt_expansion: false, seed: 8 }],
      [{ model: 'happyhorse-1.0-video-edit', prompt: 'anime', video_urls: [clip], image_urls: [image], keep_original_sound: true, seed: 9 }, 'alibaba/happy-horse/video-edit',
        { prompt: 'anime', video_url: clip, reference_image_urls: [image], resolution: '720p', audio_setting: 'origin', seed: 9 }],
    ];
    for (const [body, endpoint, input] of cases) {
      fake.submits.length = 0;
      fake.calls.length = 0;
      const task = await run(polled, body);
      assert.equal(task.status, 'completed', JSON.stringify(task));
      assert.equal(fake.submits[0].endpoint, endpoint);
      // Uploaded to fal storage (the default input_delivery): each URL holds exactly the bytes the client's URL served.
      assert.deepEqual(withClientUrls(fake, fake.submits[0].input), input);
      const app = endpoint.split('/').slice(0, 2).join('/');
      assert.ok(fake.calls.every((p) => p.startsWith(`/${app}/requests/`)), `status and result at the owner/app URLs fal returned: ${fake.calls}`);
      assert.ok(task.results[0].startsWith(polled.baseUrl));
    }
  });

  it('maps a failed request (422 at the result) to invalid_parameters and releases the credits', async () => {
    fake.script = () => ({ queueMs: 0, runMs: 50, outcome: 422 });
    const task = await run(polled, { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 });
    assert.equal(task.status, 'failed');
    assert.equal(task.error.code, 'invalid_parameters');
    assert.equal(task.usage.credits_charged, 0);
  });

  it('refuses the model fal does not serve at create (no channel for wan2.7-video-edit)', async () => {
    const res = await polled.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-video-edit', video_urls: [media.url('clip-5s-640x360.mp4')] } });
    assert.equal(res.status, 503);
  });

  it('cancels a queued request with the returned cancel_url', async () => {
    fake.script = () => ({ queueMs: 60_000, runMs: 100, outcome: 'ok' });
    const created = await polled.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'c', duration: 2 } });
    await untilAccepted(polled, created.body.id);
    assert.equal((await polled.call('DELETE', `/v1/tasks/${created.body.id}`)).status, 200);
    const request = [...fake.requests.values()].at(-1)!;
    await until(() => request.cancelled, 'the queued request was cancelled with its cancel_url');
  });

  it('a signed webhook makes vidgate look at once; a forged one is refused with 401', async () => {
    const started = Date.now();
    const task = await run(hooked, { model: 'wan2.7-text-to-video', prompt: 'hooked', duration: 2 }, 15_000);
    assert.equal(task.status, 'completed');
    assert.ok(Date.now() - started < 10_000, 'finished long before the 60 s poll');
    const query = fake.submits[0].query.get('fal_webhook')!;
    assert.match(query, new RegExp(`^${hooked.baseUrl}/v1/webhooks/fal/fal-hooks\\?key=`));
    assert.equal(fake.webhooks.at(-1)!.status, 200);

    fake.forgeNextWebhook = true;
    fake.script = () => ({ queueMs: 0, runMs: 20, outcome: 'ok' });
    const before = fake.webhooks.length;
    await hooked.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'forged', duration: 2 } });
    await until(() => fake.webhooks.length > before, 'fal sent its webhook');
    assert.equal(fake.webhooks.at(-1)!.status, 401);
  });

  it("refuses a validly signed webhook of another fal account (CONTRACT §8.12)", async () => {
    fake.webhookUserId = 'someone-else';
    try {
      fake.script = () => ({ queueMs: 0, runMs: 20, outcome: 'ok' });
      const before = fake.webhooks.length;
      await hooked.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'other account', duration: 2 } });
      await until(() => fake.webhooks.length > before, 'fal sent its webhook');
      assert.equal(fake.webhooks.at(-1)!.status, 401);
    } finally {
      fake.webhookUserId = 'user-1';
    }
  });

  it('a submit whose answer was lost is named by fal\'s webhook and adopted, never sent twice', async () => {
    fake.nextSubmits.push('hang');
    fake.script = () => ({ queueMs: 0, runMs: 1500, outcome: 'ok' }); // the webhook comes after the submit timed out
    const task = await run(hooked, { model: 'wan2.7-text-to-video', prompt: 'lost', duration: 2 }, 15_000);
    assert.equal(task.status, 'completed', JSON.stringify(task));
    assert.equal(fake.submits.length, 1);
  });
});

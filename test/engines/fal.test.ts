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
    fake.refusals.length = 0;
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

  it('maps a failed request (422 at the result) to invalid_parameters, or content_policy_violation when moderated, releasing the credits', async () => {
    fake.script = () => ({ queueMs: 0, runMs: 50, outcome: 422 });
    const task = await run(polled, { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 });
    assert.equal(task.status, 'failed');
    assert.equal(task.error.code, 'invalid_parameters');
    assert.equal(task.usage.credits_charged, 0);
    fake.script = () => ({ queueMs: 0, runMs: 50, outcome: 'moderated' });
    const moderated = await run(polled, { model: 'veo-3.1-fast-generate-preview', prompt: 'x' });
    assert.equal(moderated.error.code, 'content_policy_violation');
    assert.equal(moderated.usage.credits_charged, 0);
  });

  it('refuses a model fal does not host at create (no channel for wan3.0-text-to-video)', async () => {
    const res = await polled.call('POST', '/v1/videos/generations', { body: { model: 'wan3.0-text-to-video', prompt: 'x' } });
    assert.equal(res.status, 503);
  });

  it('submits the catalog models fal hosts to their endpoints (tier and mode from the request), every field one fal takes', async () => {
    const image = media.url('image-640x360.png');
    const image2 = media.url('image-800x600.webp');
    const clip = media.url('clip-4s-400x300.mp4');
    const clip5 = media.url('clip-5s-640x360.mp4');
    const wav = media.url('audio-3s.wav');
    const cases: [Record<string, unknown>, string, unknown][] = [
      [{ model: 'wan2.5-text-to-video', prompt: 'p', quality: '480p', aspect_ratio: '1:1', duration: 10 }, 'fal-ai/wan-25-preview/text-to-video',
        { prompt: 'p', duration: '10', resolution: '480p', aspect_ratio: '1:1', enable_prompt_expansion: true }],
      [{ model: 'wan2.6-image-to-video-flash', prompt: 'p', image_urls: [image], generate_audio: false, duration: 5, model_params: { shot_type: 'multi' } }, 'wan/v2.6/image-to-video/flash',
        { prompt: 'p', duration: '5', resolution: '720p', multi_shots: true, enable_prompt_expansion: true, image_url: image, generate_audio: false }],
      [{ model: 'wan2.6-reference-video', prompt: 'character1', video_urls: [clip], duration: 10, aspect_ratio: '9:16' }, 'wan/v2.6/reference-to-video',
        { prompt: 'character1', duration: '10', resolution: '720p', video_urls: [clip], aspect_ratio: '9:16' }],
      [{ model: 'wan2.7-video-edit', prompt: 'snow', video_urls: [clip5], image_urls: [image], keep_original_sound: true, seed: 3 }, 'fal-ai/wan/v2.7/edit-video',
        { prompt: 'snow', video_url: clip5, reference_image_url: image, resolution: '720p', duration: 0, audio_setting: 'origin', seed: 3 }],
      [{ model: 'happyhorse-1.1-image-to-video', image_urls: [image], quality: '1080p' }, 'alibaba/happy-horse/v1.1/image-to-video',
        { duration: 5, resolution: '1080p', image_url: image }],
      [{ model: 'happyhorse-1.0-reference-to-video', prompt: 'character1', image_urls: [image2], aspect_ratio: '1:1' }, 'alibaba/happy-horse/reference-to-video',
        { prompt: 'character1', duration: 5, resolution: '720p', aspect_ratio: '1:1', image_urls: [image2] }],
      [{ model: 'seedance-2.0-mini-image-to-video', prompt: 'p', image_urls: [image, image2], duration: 6, quality: '480p' }, 'bytedance/seedance-2.0/mini/image-to-video',
        { prompt: 'p', duration: '6', resolution: '480p', aspect_ratio: 'auto', generate_audio: true, image_url: image, end_image_url: image2 }],
      [{ model: 'seedance-2.0-reference-to-video', prompt: '@image1', image_urls: [image], video_urls: [clip], audio_urls: [wav] }, 'bytedance/seedance-2.0/reference-to-video',
        { prompt: '@image1', duration: '5', resolution: '720p', aspect_ratio: 'auto', generate_audio: true, image_urls: [image], video_urls: [clip], audio_urls: [wav] }],
      [{ model: 'seedance-1.5-pro', prompt: 'p', duration: 4 }, 'fal-ai/bytedance/seedance/v1.5/pro/text-to-video',
        { prompt: 'p', duration: '4', resolution: '720p', aspect_ratio: '16:9', generate_audio: true }],
      [{ model: 'kling-o3-text-to-video', quality: '1080p', duration: 3, model_params: { multi_shot: true, shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'a', duration: '1' }, { index: 2, prompt: 'b', duration: '2' }] } },
        'fal-ai/kling-video/o3/pro/text-to-video',
        { multi_prompt: [{ prompt: 'a', duration: '1' }, { prompt: 'b', duration: '2' }], shot_type: 'customize', duration: '3', aspect_ratio: '16:9', generate_audio: false }],
      [{ model: 'kling-v3-image-to-video', image_start: image, image_end: media.url('image-360x640.jpg'), quality: '4k', sound: 'on', duration: 4 }, 'fal-ai/kling-video/v3/4k/image-to-video',
        { duration: '4', generate_audio: true, start_image_url: image, end_image_url: media.url('image-360x640.jpg') }],
      [{ model: 'kling-o1-video-edit', prompt: 'night', video_urls: [clip5], image_urls: [image], keep_original_sound: false }, 'fal-ai/kling-video/o1/video-to-video/edit',
        { prompt: 'night', video_url: clip5, image_urls: [image], keep_audio: false }],
      [{ model: 'MiniMax-Hailuo-02', prompt: 'p', quality: '512p', image_urls: [image] }, 'fal-ai/minimax/hailuo-02/standard/image-to-video',
        { prompt: 'p', duration: '6', resolution: '512P', image_url: image }],
      [{ model: 'MiniMax-Hailuo-2.3', prompt: 'p', quality: '1080p', duration: 6 }, 'fal-ai/minimax/hailuo-2.3/pro/text-to-video', { prompt: 'p' }],
      [{ model: 'veo3.1-fast', prompt: 'p', image_urls: [image, image2] }, 'fal-ai/veo3.1/fast/first-last-frame-to-video',
        { prompt: 'p', duration: '8s', resolution: '720p', aspect_ratio: 'auto', first_frame_url: image, last_frame_url: image2 }],
      [{ model: 'veo-3.1-generate-preview', prompt: 'p', duration: 6, quality: '1080p', seed: 5 }, 'fal-ai/veo3.1',
        { prompt: 'p', duration: '6s', resolution: '1080p', generate_audio: true, seed: 5 }],
      [{ model: 'grok-imagine-text-to-video', prompt: 'p', duration: 8, aspect_ratio: '3:2' }, 'xai/grok-imagine-video/text-to-video',
        { prompt: 'p', duration: 8, resolution: '480p', aspect_ratio: '3:2' }],
      [{ model: 'grok-imagine-video-1.0-i2v', prompt: 'p', image_urls: [image], quality: '720p' }, 'xai/grok-imagine-video/image-to-video',
        { prompt: 'p', duration: 6, resolution: '720p', image_url: image }],
      [{ model: 'grok-imagine-video-1.0-i2v', prompt: 'p', image_urls: [image, image2, image], duration: 4 }, 'xai/grok-imagine-video/reference-to-video',
        { prompt: 'p', duration: 4, resolution: '480p', aspect_ratio: '16:9', reference_image_urls: [image, image2, image] }],
    ];
    for (const [body, endpoint, input] of cases) {
      fake.submits.length = 0;
      const task = await run(polled, body);
      assert.equal(task.status, 'completed', `${body.model}: ${JSON.stringify(task.error)} ${fake.refusals.at(-1) ?? ''}`);
      assert.equal(fake.submits[0].endpoint, endpoint, String(body.model));
      assert.deepEqual(withClientUrls(fake, fake.submits[0].input), input, `input for ${body.model}`);
    }
    assert.deepEqual(fake.refusals, [], 'no field fal would refuse');
  });

  it('fails with invalid_parameters what fal has no field for, and refuses an unknown field as fal does', async () => {
    const filter = await run(polled, { model: 'seedance-2.0-text-to-video', prompt: 'p', content_filter: false });
    assert.equal(filter.error.code, 'invalid_parameters');
    assert.match(filter.error.message, /the fal engine cannot send content_filter false for seedance-2.0-text-to-video/);
    const elements = await run(polled, { model: 'kling-v3-image-to-video', image_start: media.url('image-640x360.png'), model_params: { element_list: [{ element_id: 'e1' }] } });
    assert.match(elements.error.message, /cannot send model_params.element_list/);
    const refused = await fetch(`${fake.baseUrl}/bytedance/seedance-2.0/text-to-video`, {
      method: 'POST', headers: { authorization: `Key ${fake.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'p', duration: 5 }),
    });
    assert.equal(refused.status, 422, 'duration is a string there');
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

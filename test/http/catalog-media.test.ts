import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * The catalog's media limits (CATALOG.md §4), checked at create time on real files made by
 * ffmpeg: at least one model per family, each refusal naming the field, the value and the limit.
 */
describe('catalog media limits at create time', () => {
  let server: TestServer;
  let media: MediaServer;
  const url = (name: string) => media.url(name);

  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' });
  });
  after(async () => {
    await server.close();
    await media.close();
  });

  async function rejects(body: Record<string, unknown>, field: string, reason: RegExp): Promise<void> {
    const res = await server.call('POST', '/v1/videos/generations', { body });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.ok(res.body.error.message.startsWith(`${field}: `), res.body.error.message);
    assert.match(res.body.error.message, reason);
  }

  it('wan: too small, wrong format, and a wrong audio format (wan2.5, wan2.6)', async () => {
    const i2v = (image: string) => ({ model: 'wan2.5-image-to-video', prompt: 'x', image_urls: [url(image)] });
    await rejects(i2v('image-200x200.png'), 'image_urls[0]', /size 200×200 is outside the allowed width and height of 360–2000 px/);
    await rejects(i2v('image-2700x300.png'), 'image_urls[0]', /2700×300 is outside the allowed width and height of 360–2000 px/);
    await rejects(i2v('image-640x640.gif'), 'image_urls[0]', /format gif is not accepted; use JPEG, PNG, BMP, WEBP/);
    await rejects({ model: 'wan2.6-text-to-video', prompt: 'x', audio_url: url('audio-3s.wav') }, 'audio_url', /format WAV is not accepted; use MP3/);
  });

  it('happyhorse: wrong aspect and too small', async () => {
    await rejects({ model: 'happyhorse-1.0-image-to-video', image_urls: [url('image-2700x300.png')] }, 'image_urls[0]', /aspect ratio 2700×300 is outside 1:2\.5–2\.5:1/);
    await rejects({ model: 'happyhorse-1.1-reference-to-video', prompt: 'character1', image_urls: [url('image-640x360.png')] }, 'image_urls[0]', /at least 400 px/);
  });

  it('seedance: too long, too slow a frame rate, and reference clips over 15 s in total', async () => {
    const r2v = (videos: string[]) => ({ model: 'seedance-2.0-reference-to-video', prompt: '@video1', video_urls: videos.map(url) });
    await rejects(r2v(['clip-20s-640x360.mp4']), 'video_urls[0]', /duration 20(\.\d+)? s is outside 2–15 s/);
    await rejects(r2v(['clip-4s-5fps-640x360.mp4']), 'video_urls[0]', /frame rate 5 fps is outside 24–60 fps/);
    await rejects(r2v(['clip-12s-320x240.mp4']), 'video_urls[0]', /size 320×240 is outside the allowed width and height of 300–6000 px/);
    await rejects(r2v(['clip-8s-400x300.mp4', 'clip-8s-400x300.mp4']), 'video_urls', /the clips add up to 16(\.\d+)? s; at most 15 s in total/);
  });

  it('kling: a clip too short for the edit, an image in the wrong format', async () => {
    await rejects({ model: 'kling-o1-video-edit', prompt: 'x', video_urls: [url('clip-1s-640x360.mp4')] }, 'video_urls[0]', /duration 1(\.\d+)? s is outside 3–10 s/);
    await rejects({ model: 'kling-v3-image-to-video', image_start: url('image-800x600.webp') }, 'image_start', /format WEBP is not accepted; use JPEG, PNG/);
  });

  it('minimax: audio too short for h3 references, a Hailuo image too small', async () => {
    await rejects({ model: 'minimax-h3-reference-to-video', prompt: 'Audio 1', audio_urls: [url('audio-1s.wav')] }, 'audio_urls[0]', /duration 1 s is outside 2–15 s/);
    await rejects({ model: 'MiniMax-Hailuo-2.3-Fast', image_urls: [url('image-200x200.png')] }, 'image_urls[0]', /200×200/);
  });

  it('veo, sora and grok: too large, the wrong pixel size for the aspect, wrong format', async () => {
    await rejects({ model: 'veo3.1-pro-beta', prompt: 'x', image_urls: [url('random-21MB.bin')] }, 'image_urls[0]', /larger than the 10 MB limit/);
    await rejects({ model: 'sora-2-preview', prompt: 'x', aspect_ratio: '1280x720', image_urls: [url('image-640x360.png')] }, 'image_urls[0]', /is 640×360; with aspect_ratio "1280x720" the image must be exactly 1280×720/);
    await rejects({ model: 'grok-imagine-video-1.0-i2v', prompt: 'x', image_urls: [url('image-640x640.gif')] }, 'image_urls[0]', /format gif is not accepted/);
  });

  it('gemini and the others: a mov for an mp4-only field, an audio format, a clip too long', async () => {
    await rejects({ model: 'gemini-omni-flash-video-edit', prompt: 'x', video_urls: [url('clip-4s-480x640.mov')] }, 'video_urls[0]', /format MOV is not accepted; use MP4/);
    await rejects({ model: 'gemini-omni-flash-video-edit', prompt: 'x', video_urls: [url('clip-12s-320x240.mp4')] }, 'video_urls[0]', /duration 12(\.\d+)? s is outside 3–10 s/);
    await rejects({ model: 'omnihuman-1.5', image_urls: [url('image-640x360.png')], audio_url: url('audio-3s.ogg') }, 'audio_url', /format ogg is not accepted; use WAV, MP3/);
    await rejects({ model: 'topaz-video-upscale', video_urls: [url('clip-4s-480x640.mov')] }, 'video_urls[0]', /format MOV is not accepted; use MP4/);
  });

  it('takes gemini\'s pictures inline, as a data URL or bare base64, with the same limits (CATALOG.md §4.9)', async () => {
    const png = readFileSync(path.join(fixturesDir(), 'image-640x360.png')).toString('base64');
    for (const image of [`data:image/png;base64,${png}`, png]) {
      const res = await server.call('POST', '/v1/videos/generations', { body: { model: 'gemini-omni-flash-image-to-video', prompt: 'x', image_urls: [image] } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [input] = await server.app.db.selectFrom('task_inputs').selectAll().where('task_id', '=', res.body.id).execute();
      assert.deepEqual([input.field, input.width, input.height, input.url], ['image_urls[0]', 640, 360, 'data:inline;field=image_urls[0]']);
      assert.deepEqual(readFileSync(path.join(server.app.settings.storage_dir, input.path)), readFileSync(path.join(fixturesDir(), 'image-640x360.png')), 'the decoded bytes');
    }
    const gif = readFileSync(path.join(fixturesDir(), 'image-640x640.gif')).toString('base64');
    await rejects({ model: 'gemini-omni-flash-reference-to-video', prompt: 'x', image_urls: [`data:image/png;base64,${gif}`] }, 'image_urls[0]', /format gif is not accepted/);
    await rejects({ model: 'gemini-omni-flash-image-to-video', prompt: 'x', image_urls: ['not base64 or a URL!'] }, 'image_urls[0]', /data:image\/png\|jpeg\|webp;base64, URL or base64 text/);
    await rejects({ model: 'seedance-2.0-image-to-video', prompt: 'x', image_urls: [png.slice(0, 400)] }, 'image_urls[0]', /must be an http:\/\/ or https:\/\/ URL/);
  });

  it('accepts what the limits allow, billing input seconds where the model does (seedance references)', async () => {
    const res = await server.call('POST', '/v1/videos/generations', { body: { model: 'seedance-2.0-reference-to-video', prompt: '@video1', duration: 5, video_urls: [url('clip-4s-400x300.mp4')] } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const task = await server.app.db.selectFrom('tasks').select(['billed_seconds', 'output_width', 'output_height']).where('id', '=', res.body.id).executeTakeFirstOrThrow();
    assert.equal(task.billed_seconds, 9, '5 s out + 4 s of reference clip');
    assert.deepEqual([task.output_width, task.output_height], [960, 720], 'adaptive: the clip\'s 4:3 at 720p');
  });
});

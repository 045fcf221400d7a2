import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Real files made by ffmpeg, served from 127.0.0.2 (allow-listed); 127.0.0.1 stays refused.
describe('media checks at create time', () => {
  let server: TestServer;
  let media: MediaServer;
  let refused: MediaServer;
  const url = (name: string) => media.url(name);
  const create = (body: Record<string, unknown>) => server.call('POST', '/v1/videos/generations', { body });

  async function rejects(body: Record<string, unknown>, field: string, reason: RegExp): Promise<void> {
    const res = await create(body);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'invalid_request');
    assert.ok(res.body.error.message.startsWith(`${field}: `), res.body.error.message);
    assert.match(res.body.error.message, reason);
  }

  async function accepts(body: Record<string, unknown>) {
    const res = await create(body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const task = await server.app.db.selectFrom('tasks').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
    const inputs = await server.app.db.selectFrom('task_inputs').selectAll().where('task_id', '=', res.body.id).execute();
    for (const input of inputs) assert.ok(existsSync(path.join(server.app.settings.storage_dir, input.path)), `${input.field} kept for the job`);
    return { view: res.body, task, inputs };
  }

  before(async () => {
    const dir = fixturesDir();
    media = await startMediaServer(dir, '127.0.0.2');
    refused = await startMediaServer(dir, '127.0.0.1');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_MEDIA_DEADLINE: '3s' });
  });
  after(async () => {
    await server.close();
    await media.close();
    await refused.close();
  });

  describe('wan2.7-image-to-video', () => {
    const i2v = (extra: Record<string, unknown>) => ({ model: 'wan2.7-image-to-video', ...extra });

    it('accepts JPEG, PNG, BMP and WEBP and follows the image aspect ratio', async () => {
      const cases: [string, number, number][] = [
        ['image-640x360.png', 1280, 720],
        ['image-360x640.jpg', 720, 1280],
        ['image-400x400.bmp', 960, 960],
        ['image-800x600.webp', 1104, 832],
      ];
      for (const [name, width, height] of cases) {
        const { view, task, inputs } = await accepts(i2v({ image_start: url(name) }));
        assert.deepEqual([task.output_width, task.output_height, task.output_fps], [width, height, 30], name);
        assert.equal(view.task_info.video_duration, 5);
        assert.equal(view.usage.credits_reserved, 43);
        assert.equal(inputs.length, 1);
        assert.equal(inputs[0].field, 'image_start');
      }
    });
    it('accepts first_last_frame with driving audio (wav and mp3)', async () => {
      for (const audio of ['audio-3s.wav', 'audio-4s.mp3']) {
        const { inputs } = await accepts(i2v({ image_start: url('image-640x360.png'), image_end: url('image-360x640.jpg'), audio_urls: [url(audio)] }));
        assert.deepEqual(inputs.map((i) => i.field).sort(), ['audio_urls[0]', 'image_end', 'image_start']);
      }
    });
    it('rejects images breaking the limits, naming field, value and limit', async () => {
      await rejects(i2v({ image_start: url('image-alpha-400x400.png') }), 'image_start', /alpha/);
      await rejects(i2v({ image_start: url('image-200x200.png') }), 'image_start', /size 200×200 is outside the allowed width and height of 240–8000 px/);
      await rejects(i2v({ image_start: url('image-2700x300.png') }), 'image_start', /aspect ratio 2700×300 is outside 1:8–8:1/);
      await rejects(i2v({ image_start: url('image-640x640.gif') }), 'image_start', /format gif is not accepted; use JPEG, PNG, BMP, WEBP/);
      await rejects(i2v({ image_start: url('random-21MB.bin') }), 'image_start', /larger than the 20 MB limit/);
      await rejects(i2v({ image_start: `${media.origin}/chunked/random-21MB.bin` }), 'image_start', /larger than the 20 MB limit/);
      await rejects(i2v({ image_start: url('not-media.txt') }), 'image_start', /not a readable media file/);
      await rejects(i2v({ image_start: url('image-640x360.png'), image_end: url('image-200x200.png') }), 'image_end', /200×200/);
    });
    it('rejects audio breaking the limits', async () => {
      await rejects(i2v({ image_start: url('image-640x360.png'), audio_urls: [url('audio-1s.wav')] }), 'audio_urls[0]', /duration 1 s is outside 2–30 s/);
      await rejects(i2v({ image_start: url('image-640x360.png'), audio_urls: [url('audio-3s.ogg')] }), 'audio_urls[0]', /format ogg is not accepted; use WAV, MP3/);
    });
    it('continuation: duration is the total, at least the clip', async () => {
      const { view, task } = await accepts(i2v({ video_urls: [url('clip-5s-640x360.mp4')], duration: 8 }));
      assert.equal(view.task_info.video_duration, 8);
      assert.equal(view.usage.credits_reserved, 68.8);
      assert.equal(task.output_duration_ms, 8000);
      const mov = await accepts(i2v({ video_urls: [url('clip-4s-480x640.mov')] }));
      assert.deepEqual([mov.task.output_width, mov.task.output_height], [832, 1104]);
      assert.equal(mov.inputs[0].container, 'mov');
      await rejects(i2v({ video_urls: [url('clip-5s-640x360.mp4')], duration: 4 }), 'duration', /4 s is shorter than the 5 s clip/);
    });
    it('rejects clips breaking the limits', async () => {
      await rejects(i2v({ video_urls: [url('clip-1s-640x360.mp4')] }), 'video_urls[0]', /duration 1(\.\d+)? s is outside 2–10 s/);
      await rejects(i2v({ video_urls: [url('clip-12s-320x240.mp4')], duration: 15 }), 'video_urls[0]', /duration 12(\.\d+)? s is outside 2–10 s/);
      await rejects(i2v({ video_urls: [url('clip-3s-640x360.webm')] }), 'video_urls[0]', /format webm is not accepted; use MP4, MOV/);
    });
  });

  describe('wan2.7-text-to-video driving audio', () => {
    it('accepts audio_urls and the audio_url alias', async () => {
      for (const body of [{ audio_urls: [url('audio-3s.wav')] }, { audio_url: url('audio-4s.mp3') }]) {
        const { inputs } = await accepts({ model: 'wan2.7-text-to-video', prompt: 'rain', ...body });
        assert.equal(inputs[0].kind, 'audio');
      }
    });
  });

  describe('wan2.7-video-edit', () => {
    const edit = (extra: Record<string, unknown> = {}) => ({ model: 'wan2.7-video-edit', video_urls: [url('clip-5s-640x360.mp4')], ...extra });
    it('keeps the input length by default and bills input + output seconds', async () => {
      const { view, task } = await accepts(edit({ image_urls: [url('image-640x360.png'), url('image-400x400.bmp')] }));
      assert.equal(view.task_info.video_duration, 5);
      assert.equal(view.usage.credits_reserved, 86);
      assert.deepEqual([task.output_width, task.output_height], [1280, 720]);
    });
    it('cuts to duration, honours aspect_ratio, and refuses a cut longer than the clip', async () => {
      const { view, task } = await accepts(edit({ duration: 3, aspect_ratio: '9:16', quality: '1080p' }));
      assert.equal(view.task_info.video_duration, 3);
      assert.equal(view.usage.credits_reserved, 86.4);
      assert.deepEqual([task.output_width, task.output_height], [1080, 1920]);
      await rejects(edit({ duration: 8 }), 'duration', /8 s is longer than the 5(\.\d+)? s clip/);
    });
    it('checks reference images', async () => {
      await rejects(edit({ image_urls: [url('image-640x360.png'), url('image-alpha-400x400.png')] }), 'image_urls[1]', /alpha/);
    });
  });

  describe('happyhorse-1.0-video-edit', () => {
    const horse = (extra: Record<string, unknown> = {}) => ({ model: 'happyhorse-1.0-video-edit', prompt: 'make it snow', ...extra });
    it('outputs min(input, 15) s at 24 fps; reserves twice that', async () => {
      const short = await accepts(horse({ video_urls: [url('clip-5s-640x360.mp4')] }));
      assert.deepEqual([short.view.task_info.video_duration, short.view.usage.credits_reserved, short.task.output_fps], [5, 179, 24]);
      const long = await accepts(horse({ video: url('clip-20s-640x360.mp4'), quality: '1080p' }));
      assert.deepEqual([long.view.task_info.video_duration, long.view.usage.credits_reserved, long.task.output_duration_ms], [15, 954, 15000]);
      assert.equal(long.inputs[0].field, 'video');
    });
    it('rejects clips and images breaking its own limits', async () => {
      await rejects(horse({ video_urls: [url('clip-4s-5fps-640x360.mp4')] }), 'video_urls[0]', /frame rate 5 fps must be above 8 fps/);
      await rejects(horse({ video_urls: [url('clip-1s-640x360.mp4')] }), 'video_urls[0]', /outside 3–60 s/);
      await rejects(horse({ video_url: url('clip-4s-400x300.mp4') }), 'video_url', /short edge 300 px is under 320 px/);
      const clip = url('clip-5s-640x360.mp4');
      await rejects(horse({ video_urls: [clip], image_urls: [url('image-1000x300.jpg')] }), 'image_urls[0]', /aspect ratio 1000×300 is outside 1:2.5–2.5:1/);
      await rejects(horse({ video_urls: [clip], image_urls: [url('image-640x360.png'), url('image-200x200.png')] }), 'image_urls[1]', /at least 300 px/);
      await rejects(horse({ video_urls: [clip], image_urls: [url('image-400x400.bmp')] }), 'image_urls[0]', /format BMP is not accepted; use JPEG, PNG, WEBP/);
    });
  });

  describe('fetching', () => {
    const i2v = (image: string) => ({ model: 'wan2.7-image-to-video', image_start: image });
    it('refuses loopback targets outside the allow-list, and redirects to them', async () => {
      const port = new URL(refused.origin).port;
      for (const target of ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0', '2130706433', '[::ffff:127.0.0.1]']) {
        await rejects(i2v(`http://${target}:${port}/image-640x360.png`), 'image_start', /not allowed/);
      }
      const hop = `${media.origin}/redirect?to=${encodeURIComponent(refused.url('image-640x360.png'))}`;
      await rejects(i2v(hop), 'image_start', /could not be fetched: the URL is not allowed$/);
      assert.deepEqual(refused.hits, []);
    });
    it('reports unreachable media, error statuses and the deadline', async () => {
      await rejects(i2v(`${media.origin}/status/404`), 'image_start', /HTTP 404/);
      await rejects(i2v('https://unresolvable.test/a.png'), 'image_start', /could not be fetched: the host could not be reached$/);
      await rejects(i2v(`${media.origin}/hang`), 'image_start', /within 3 s/);
    });
    it('leaves no input files behind for rejected requests', async () => {
      const inputsDir = path.join(server.dataDir, 'inputs');
      const folders = readdirSync(inputsDir);
      const tasks = await server.app.db.selectFrom('task_inputs').select('task_id').distinct().execute();
      assert.deepEqual(folders.sort(), tasks.map((t) => t.task_id).sort());
    });
  });
});

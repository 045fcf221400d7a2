import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { renderThrough } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { framePng, maxVolume, psnr, videoFacts } from '../helpers/video.ts';

/**
 * One task per kind per family of the catalog through the API and a real worker on the local
 * engine (CONTRACT §9.5): each output checked with ffprobe for its length, size, frame rate and
 * sound, and, where an input should show, by its frames.
 */
type Case = {
  name: string;
  body: (m: (file: string) => string) => Record<string, unknown>;
  size: [number, number];
  fps: number;
  seconds: number;
  sound: boolean;
  /** A frame (index) that should show this fixture, filled to the output size. */
  shows?: { frame: number; fixture: string };
};

const CASES: Case[] = [
  { name: 'wan2.6 t2v, driving audio', body: (m) => ({ model: 'wan2.6-text-to-video', prompt: 'a paper boat', duration: 2, audio_url: m('audio-4s.mp3') }), size: [1280, 720], fps: 30, seconds: 2, sound: true },
  { name: 'wan2.5 i2v at 480p', body: (m) => ({ model: 'wan2.5-image-to-video', prompt: 'drift', quality: '480p', image_urls: [m('image-800x600.webp')] }), size: [640, 480], fps: 30, seconds: 5, sound: true, shows: { frame: 0, fixture: 'image-800x600.webp' } },
  { name: 'wan3.0 i2v first and last frame', body: (m) => ({ model: 'wan3.0-image-to-video', image_start: m('image-640x360.png'), image_end: m('image-800x600.webp'), duration: 2, quality: '480p', generate_audio: false }), size: [854, 480], fps: 30, seconds: 2, sound: false, shows: { frame: 0, fixture: 'image-640x360.png' } },
  { name: 'wan2.6 references (clips)', body: (m) => ({ model: 'wan2.6-reference-video', prompt: 'the character waves', video_urls: [m('clip-4s-400x300.mp4')], duration: 2 }), size: [1280, 720], fps: 30, seconds: 2, sound: true },
  { name: 'happyhorse 1.0 t2v at 21:9', body: () => ({ model: 'happyhorse-1.0-text-to-video', prompt: 'a horse on a beach', duration: 3, aspect_ratio: '21:9' }), size: [1680, 720], fps: 24, seconds: 3, sound: true },
  { name: 'happyhorse 1.1 i2v', body: (m) => ({ model: 'happyhorse-1.1-image-to-video', image_urls: [m('image-640x360.png')], duration: 3 }), size: [1280, 720], fps: 24, seconds: 3, sound: true, shows: { frame: 0, fixture: 'image-640x360.png' } },
  { name: 'seedance 2.0 t2v silent', body: () => ({ model: 'seedance-2.0-text-to-video', prompt: 'city lights', duration: 4, quality: '480p', aspect_ratio: '1:1', generate_audio: false }), size: [480, 480], fps: 24, seconds: 4, sound: false },
  { name: 'seedance 2.0 mini first and last', body: (m) => ({ model: 'seedance-2.0-mini-image-to-video', prompt: 'morph', duration: 4, quality: '480p', image_urls: [m('image-640x360.png'), m('image-800x600.webp')] }), size: [854, 480], fps: 24, seconds: 4, sound: true, shows: { frame: 0, fixture: 'image-640x360.png' } },
  { name: 'seedance 2.0 references (image, clip, audio)', body: (m) => ({ model: 'seedance-2.0-reference-to-video', prompt: '@image1 dances to @audio1', duration: 4, quality: '480p', aspect_ratio: '16:9', image_urls: [m('image-800x600.webp')], video_urls: [m('clip-4s-400x300.mp4')], audio_urls: [m('audio-3s.wav')] }), size: [854, 480], fps: 24, seconds: 4, sound: true },
  { name: 'seedance 2.5 edit follows the clip', body: (m) => ({ model: 'seedance-2.5-video-edit', prompt: 'Edit the video: make it black and white', quality: '480p', video_urls: [m('clip-4s-400x300.mp4')] }), size: [640, 480], fps: 24, seconds: 4, sound: true },
  { name: 'seedance 2.5 extend', body: (m) => ({ model: 'seedance-2.5-video-extend', prompt: 'continue forward', duration: 4, quality: '480p', video_urls: [m('clip-4s-400x300.mp4')] }), size: [640, 480], fps: 24, seconds: 4, sound: true },
  { name: 'kling o3 multi-shot t2v', body: () => ({ model: 'kling-o3-text-to-video', duration: 3, aspect_ratio: '9:16', model_params: { multi_shot: true, shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'a fox', duration: '1' }, { index: 2, prompt: 'a wave', duration: '2' }] } }), size: [720, 1280], fps: 24, seconds: 3, sound: false },
  { name: 'kling v3 i2v with sound', body: (m) => ({ model: 'kling-v3-image-to-video', image_start: m('image-640x360.png'), duration: 3, sound: 'on' }), size: [1280, 720], fps: 24, seconds: 3, sound: true, shows: { frame: 0, fixture: 'image-640x360.png' } },
  { name: 'kling o1 edit', body: (m) => ({ model: 'kling-o1-video-edit', prompt: 'turn it to night', video_urls: [m('clip-5s-640x360.mp4')], keep_original_sound: true }), size: [1280, 720], fps: 24, seconds: 5, sound: true },
  { name: 'kling motion control', body: (m) => ({ model: 'kling-v3-motion-control', image_urls: [m('image-640x360.png')], video_urls: [m('clip-5s-640x360.mp4')], model_params: { character_orientation: 'image', keep_sound: false } }), size: [1280, 720], fps: 24, seconds: 5, sound: false },
  { name: 'kling custom element', body: (m) => ({ model: 'kling-custom-element', model_params: { element_name: 'Robot', element_description: 'a small red robot', reference_type: 'image_refer', element_image_list: { frontal_image: m('image-640x360.png'), refer_images: [{ image_url: m('image-800x600.webp') }] } } }), size: [1280, 720], fps: 24, seconds: 3, sound: false, shows: { frame: 0, fixture: 'image-640x360.png' } },
  { name: 'hailuo 02 at 512p', body: (m) => ({ model: 'MiniMax-Hailuo-02', prompt: 'zoom [Push in]', quality: '512p', image_urls: [m('image-640x360.png')] }), size: [910, 512], fps: 25, seconds: 6, sound: false, shows: { frame: 0, fixture: 'image-640x360.png' } },
  { name: 'minimax h3 references from audio alone', body: (m) => ({ model: 'minimax-h3-reference-to-video', prompt: 'Audio 1 as a song', audio_urls: [m('audio-3s.wav')], aspect_ratio: '16:9' }), size: [1366, 768], fps: 25, seconds: 4, sound: true },
  { name: 'veo alias veo3.1-fast', body: () => ({ model: 'veo3.1-fast', prompt: 'a red balloon' }), size: [1280, 720], fps: 24, seconds: 8, sound: true },
  { name: 'sora 2 preview i2v', body: (m) => ({ model: 'sora-2-preview', prompt: 'gentle wind', image_urls: [m('image-640x360.png')] }), size: [1280, 720], fps: 30, seconds: 4, sound: true, shows: { frame: 0, fixture: 'image-640x360.png' } },
  { name: 'grok 1.0 i2v with three pictures as references', body: (m) => ({ model: 'grok-imagine-video-1.0-i2v', prompt: 'together', duration: 2, image_urls: [m('image-640x360.png'), m('image-800x600.webp'), m('image-360x640.jpg')] }), size: [854, 480], fps: 24, seconds: 2, sound: true },
  { name: 'gemini edit follows the clip', body: (m) => ({ model: 'gemini-omni-flash-video-edit', prompt: 'add snow', video_urls: [m('clip-5s-640x360.mp4')] }), size: [1280, 720], fps: 24, seconds: 5, sound: true },
  { name: 'omnihuman speaks the audio', body: (m) => ({ model: 'omnihuman-1.5', image_urls: [m('image-640x360.png')], audio_url: m('audio-3s.wav') }), size: [1280, 720], fps: 25, seconds: 3, sound: true },
  { name: 'videoretalk: min of clip and speech', body: (m) => ({ model: 'videoretalk', video_url: m('clip-5s-640x360.mp4'), audio_url: m('audio-3s.wav') }), size: [1280, 720], fps: 25, seconds: 3, sound: true },
  { name: 'topaz upscale ×2', body: (m) => ({ model: 'topaz-video-upscale', video_urls: [m('clip-4s-400x300.mp4')] }), size: [800, 600], fps: 25, seconds: 4, sound: true },
];

describe('catalog previews on the local engine', () => {
  let server: TestServer;
  let media: MediaServer;
  let out: string;
  let fixtures: string;

  before(async () => {
    fixtures = fixturesDir();
    media = await startMediaServer(fixtures, '127.0.0.2');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
    out = mkdtempSync(path.join(tmpdir(), 'vidgate-catalog-render-'));
  });
  after(async () => {
    await server.close();
    await media.close();
    rmSync(out, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const file = path.join(out, `${c.name.replace(/\W+/g, '-')}.mp4`);
      const body = c.body((name) => media.url(name));
      const task = await renderThrough(server, body, file);
      assert.equal(task.model, body.model === 'veo3.1-fast' ? 'veo3.1-fast-beta' : body.model, 'the task names the documented id');
      const facts = await videoFacts(file);
      assert.deepEqual([facts.width, facts.height, facts.fps], [...c.size, c.fps], 'size and frame rate');
      assert.equal(facts.frames, Math.round(c.seconds * c.fps), `exactly ${c.seconds} s of frames (probed ${facts.durationSec} s)`);
      assert.equal(task.task_info.video_duration, c.seconds);
      const loudest = await maxVolume(file);
      assert.ok(c.sound ? loudest > -30 : loudest < -80, `${c.sound ? 'sound' : 'silence'} expected, loudest ${loudest} dB`);
      if (c.shows) {
        const [w, h] = c.size;
        const frame = await framePng(file, c.shows.frame, w, h, `${file}-frame.png`);
        const input = await framePng(path.join(fixtures, c.shows.fixture), 0, w, h, `${file}-input.png`);
        const db = await psnr(frame, input);
        assert.ok(db > 25, `frame ${c.shows.frame} shows ${c.shows.fixture}: ${db} dB`);
      }
    });
  }

  it('a length the model picks is reserved at its cap and charged on what the preview made', async () => {
    const file = path.join(out, 'auto.mp4');
    const task = await renderThrough(server, { model: 'wan3.0-text-to-video', prompt: 'a slow sunrise', duration: -1, quality: '480p' }, file);
    const facts = await videoFacts(file);
    assert.equal(facts.frames, 5 * 30, 'the preview makes 5 s');
    const row = await server.app.db.selectFrom('tasks').select(['credits_reserved_micro', 'credits_charged_micro', 'billed_seconds']).where('id', '=', task.id).executeTakeFirstOrThrow();
    assert.equal(row.billed_seconds, 30, 'reserved for the 30 s cap');
    assert.equal(Number(row.credits_charged_micro), Math.round((Number(row.credits_reserved_micro) * 5) / 30), 'charged for 5 s of 30');
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { renderThrough } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { frameDigests, framePng, maxVolume, psnr, saturation, videoFacts } from '../helpers/video.ts';

// Every model and mode through the HTTP API and a real worker, media from 127.0.0.2.
describe('rendering with the local engine', () => {
  let server: TestServer;
  let media: MediaServer;
  let out: string;
  let fixtures: string;
  const file = (name: string) => path.join(out, name);

  before(async () => {
    fixtures = fixturesDir();
    media = await startMediaServer(fixtures, '127.0.0.2');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' }, { worker: true });
    out = mkdtempSync(path.join(tmpdir(), 'vidgate-render-'));
  });
  after(async () => {
    await server.close();
    await media.close();
    rmSync(out, { recursive: true, force: true });
  });

  async function assertFacts(video: string, expected: { width: number; height: number; fps: number; seconds: number }) {
    const facts = await videoFacts(video);
    assert.equal(facts.videoCodec, 'h264');
    assert.equal(facts.audioCodec, 'aac');
    assert.ok(facts.fastStart, 'moov before mdat');
    assert.deepEqual([facts.width, facts.height, facts.fps], [expected.width, expected.height, expected.fps]);
    assert.equal(facts.frames, Math.round(expected.seconds * expected.fps), `exactly ${expected.seconds} s of frames`);
    assert.ok(Math.abs(facts.durationSec - expected.seconds) < 0.1, `duration ${facts.durationSec}, expected ${expected.seconds}`);
  }

  it('text-to-video: size, fps, duration, a soundtrack, cuts at the shot times', async () => {
    const prompt = 'Shot 1 [0-1s] a red fox in the snow. Shot 2 [1-2s] the fox leaps into a blue ocean wave';
    const task = await renderThrough(server, { model: 'wan2.7-text-to-video', prompt, duration: 2, seed: 7 }, file('t2v.mp4'));
    assert.equal(task.progress, 100);
    assert.equal(task.task_info.video_duration, 2);
    await assertFacts(file('t2v.mp4'), { width: 1280, height: 720, fps: 30, seconds: 2 });
    assert.ok((await maxVolume(file('t2v.mp4'))) > -30, 'a soundtrack, not silence');
    const frame = (n: number) => framePng(file('t2v.mp4'), n, 1280, 720, file(`t2v-${n}.png`));
    const within = await psnr(await frame(27), await frame(28));
    const across = await psnr(await frame(29), await frame(30));
    assert.ok(across < within - 5, `the cut at 1 s: ${across} dB across vs ${within} dB within a shot`);
  });

  it('text-to-video: aspect ratio, quality and driving audio cut or padded to the duration', async () => {
    const body = { model: 'wan2.7-text-to-video', prompt: 'a lighthouse at night', aspect_ratio: '9:16', quality: '1080p', duration: 4, audio_urls: [media.url('audio-3s.wav')] };
    await renderThrough(server, body, file('t2v-audio.mp4'));
    await assertFacts(file('t2v-audio.mp4'), { width: 1080, height: 1920, fps: 30, seconds: 4 });
    assert.ok((await maxVolume(file('t2v-audio.mp4'))) > -30);
  });

  it('the same request and seed render the same frames; another seed does not', async () => {
    const body = { model: 'wan2.7-text-to-video', prompt: 'neon city in the rain', duration: 2, seed: 1234 };
    await renderThrough(server, body, file('same-a.mp4'));
    await renderThrough(server, body, file('same-b.mp4'));
    await renderThrough(server, { ...body, seed: 1235 }, file('other.mp4'));
    const [a, b, other] = await Promise.all(['same-a.mp4', 'same-b.mp4', 'other.mp4'].map((name) => frameDigests(file(name))));
    assert.equal(a.length, 60);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, other);
  });

  it('image-to-video first_frame opens on the image, at the size nearest its aspect', async () => {
    const body = { model: 'wan2.7-image-to-video', image_start: media.url('image-360x640.jpg'), prompt: 'slow push in', duration: 2 };
    await renderThrough(server, body, file('i2v-ff.mp4'));
    await assertFacts(file('i2v-ff.mp4'), { width: 720, height: 1280, fps: 30, seconds: 2 });
    const first = await framePng(file('i2v-ff.mp4'), 0, 720, 1280, file('ff-0.png'));
    const image = await framePng(path.join(fixtures, 'image-360x640.jpg'), 0, 720, 1280, file('ff-image.png'));
    const db = await psnr(first, image);
    assert.ok(db > 30, `first frame vs image: ${db} dB`);
  });

  it('image-to-video first_last_frame ends on the last image', async () => {
    const body = { model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png'), image_end: media.url('image-800x600.webp'), duration: 2 };
    const task = await renderThrough(server, body, file('i2v-flf.mp4'));
    assert.equal(task.task_info.video_duration, 2);
    await assertFacts(file('i2v-flf.mp4'), { width: 1280, height: 720, fps: 30, seconds: 2 });
    const last = await framePng(file('i2v-flf.mp4'), 59, 1280, 720, file('flf-59.png'));
    const image = await framePng(path.join(fixtures, 'image-800x600.webp'), 0, 1280, 720, file('flf-end.png'));
    assert.ok((await psnr(last, image)) > 25);
  });

  it('image-to-video video_continuation starts with the clip and lasts the total duration', async () => {
    const body = { model: 'wan2.7-image-to-video', video_urls: [media.url('clip-4s-400x300.mp4')], duration: 6, prompt: 'and then it rains' };
    await renderThrough(server, body, file('i2v-cont.mp4'));
    await assertFacts(file('i2v-cont.mp4'), { width: 1104, height: 832, fps: 30, seconds: 6 });
    const clip = path.join(fixtures, 'clip-4s-400x300.mp4');
    for (const [ours, theirs] of [[0, 0], [30, 24]]) { // 0 s and 1 s, at 30 and 24 fps
      const a = await framePng(file('i2v-cont.mp4'), ours, 1104, 832, file(`cont-${ours}.png`));
      const b = await framePng(clip, theirs, 1104, 832, file(`clip-${theirs}.png`));
      const db = await psnr(a, b);
      assert.ok(db > 25, `frame ${ours} vs the clip's frame ${theirs}: ${db} dB`); // neighbouring frames score below 20
    }
  });

  it('video_continuation with duration equal to the clip returns the clip', async () => {
    const body = { model: 'wan2.7-image-to-video', video_urls: [media.url('clip-4s-400x300.mp4')], image_end: media.url('image-640x360.png'), duration: 4 };
    await renderThrough(server, body, file('i2v-cont-equal.mp4'));
    await assertFacts(file('i2v-cont-equal.mp4'), { width: 1104, height: 832, fps: 30, seconds: 4 });
  });

  it('wan2.7-video-edit: cut to duration, reframed to the aspect ratio, styled by the prompt, source sound kept', async () => {
    const body = {
      model: 'wan2.7-video-edit', video_urls: [media.url('clip-5s-640x360.mp4')], prompt: 'turn it black and white',
      aspect_ratio: '1:1', duration: 3, image_urls: [media.url('image-640x360.png')],
    };
    await renderThrough(server, body, file('edit-bw.mp4'));
    await assertFacts(file('edit-bw.mp4'), { width: 960, height: 960, fps: 30, seconds: 3 });
    assert.ok((await maxVolume(file('edit-bw.mp4'))) > -30, 'the source sound is kept');
    await renderThrough(server, { ...body, prompt: 'make it pop', image_urls: undefined }, file('edit-graded.mp4'));
    const [grey, graded] = [await saturation(file('edit-bw.mp4'), 45), await saturation(file('edit-graded.mp4'), 45)];
    assert.ok(grey * 4 < graded, `black and white saturation ${grey} vs graded ${graded}`);
  });

  it('wan2.7-video-edit keeps the input length when duration is 0, silent when the source is', async () => {
    const body = { model: 'wan2.7-video-edit', video_urls: [media.url('clip-3s-silent-640x360.mp4')], keep_original_sound: true };
    const task = await renderThrough(server, body, file('edit-keep.mp4'));
    assert.equal(task.task_info.video_duration, 3);
    await assertFacts(file('edit-keep.mp4'), { width: 1280, height: 720, fps: 30, seconds: 3 });
    assert.ok((await maxVolume(file('edit-keep.mp4'))) < -80, 'silence');
  });

  it('happyhorse-1.0-video-edit: 24 fps, at most 15 s, new sound unless keep_original_sound', async () => {
    const body = { model: 'happyhorse-1.0-video-edit', video_url: media.url('clip-20s-640x360.mp4'), prompt: 'cartoon style' };
    const task = await renderThrough(server, body, file('hh-long.mp4'));
    assert.equal(task.task_info.video_duration, 15);
    await assertFacts(file('hh-long.mp4'), { width: 1280, height: 720, fps: 24, seconds: 15 });
    const silentSource = { model: 'happyhorse-1.0-video-edit', video_urls: [media.url('clip-3s-silent-640x360.mp4')], prompt: 'night' };
    await renderThrough(server, silentSource, file('hh-new-sound.mp4'));
    assert.ok((await maxVolume(file('hh-new-sound.mp4'))) > -30, 'keep_original_sound false: the model makes new sound');
    await renderThrough(server, { ...silentSource, keep_original_sound: true }, file('hh-kept.mp4'));
    assert.ok((await maxVolume(file('hh-kept.mp4'))) < -80, 'the silent source sound is kept');
  });
});

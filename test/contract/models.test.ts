import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/contract/errors.ts';
import type { MediaInfo } from '../../src/contract/media-limits.ts';
import { generationRequestSchema, modelSpec, resolveModelId } from '../../src/contract/models/index.ts';
import type { NormalizedRequest } from '../../src/contract/model-spec.ts';

const URL_A = 'https://media.example/a.png';
const URL_B = 'https://media.example/b.png';
const CLIP = 'https://media.example/c.mp4';
const AUDIO = 'https://media.example/d.wav';

/** Normalizes as the task service does. */
const normalizeRequest = (body: Record<string, unknown>): NormalizedRequest => modelSpec(String(body.model)).normalize(body as never);

/** Parses and normalizes like the API does; returns the request or the first error message. */
function accept(body: Record<string, unknown>): NormalizedRequest {
  const parsed = generationRequestSchema.safeParse(body);
  if (!parsed.success) assert.fail(`rejected: ${JSON.stringify(parsed.error.issues)}`);
  return normalizeRequest(parsed.data);
}

function reject(body: Record<string, unknown>, field: string, code = 'invalid_request'): string {
  const parsed = generationRequestSchema.safeParse(body);
  if (!parsed.success) {
    assert.equal(code, 'invalid_request');
    const paths = parsed.error.issues.map((i) => i.path.join('.'));
    assert.ok(paths.some((p) => p === field || p.startsWith(`${field}.`)), `expected an issue at ${field}, got ${paths}`);
    return parsed.error.issues[0].message;
  }
  try {
    normalizeRequest(parsed.data);
  } catch (error) {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, code);
    assert.ok(error.message.startsWith(`${field}:`), error.message);
    return error.message;
  }
  return assert.fail(`accepted ${JSON.stringify(body)}`);
}

const t2v = (extra: Record<string, unknown> = {}) => ({ model: 'wan2.7-text-to-video', prompt: 'a cat', ...extra });
const i2v = (extra: Record<string, unknown> = {}) => ({ model: 'wan2.7-image-to-video', ...extra });
const edit = (extra: Record<string, unknown> = {}) => ({ model: 'wan2.7-video-edit', video_urls: [CLIP], ...extra });
const horse = (extra: Record<string, unknown> = {}) => ({ model: 'happyhorse-1.0-video-edit', prompt: 'make it snow', video_urls: [CLIP], ...extra });

describe('shared fields', () => {
  for (const make of [t2v, (extra = {}) => i2v({ image_start: URL_A, ...extra }), edit, horse]) {
    const model = make().model;
    it(`${model}: seed 1…2147483647, integer`, () => {
      assert.equal(accept(make({ seed: 1 })).seed, 1);
      assert.equal(accept(make({ seed: 2147483647 })).seed, 2147483647);
      reject(make({ seed: 0 }), 'seed');
      reject(make({ seed: 2147483648 }), 'seed');
      reject(make({ seed: 1.5 }), 'seed');
      reject(make({ seed: '7' }), 'seed');
      assert.equal(accept(make()).seed, undefined);
    });
    it(`${model}: quality defaults to 720p, accepts 1080p only besides`, () => {
      assert.equal(accept(make()).quality, '720p');
      assert.equal(accept(make({ quality: '1080p' })).quality, '1080p');
      reject(make({ quality: '4k' }), 'quality');
      reject(make({ quality: '720P' }), 'quality');
    });
    it(`${model}: callback_url must be an http(s) URL of at most 2048 chars`, () => {
      assert.equal(accept(make({ callback_url: 'https://hooks.example/x' })).callback_url, 'https://hooks.example/x');
      reject(make({ callback_url: 'ftp://hooks.example/x' }), 'callback_url');
      reject(make({ callback_url: 'not a url' }), 'callback_url');
      reject(make({ callback_url: `https://hooks.example/${'a'.repeat(2040)}` }), 'callback_url');
    });
    it(`${model}: unknown fields are ignored`, () => {
      const plain = accept(make());
      const extra = accept(make({ colour: 'blue', fps: 60, resolution: '4k' }));
      assert.deepEqual(extra, plain);
    });
  }
});

describe('wan2.7-text-to-video', () => {
  it('applies the defaults', () => {
    const request = accept(t2v());
    assert.deepEqual(request.params, { prompt: 'a cat', negative_prompt: undefined, aspect_ratio: '16:9', duration: 5, prompt_extend: false });
    assert.deepEqual(request.media, []);
  });
  it('requires a non-empty prompt', () => {
    reject({ model: 'wan2.7-text-to-video' }, 'prompt');
    reject(t2v({ prompt: '' }), 'prompt');
    reject(t2v({ prompt: '   ' }), 'prompt');
    reject(t2v({ prompt: 42 }), 'prompt');
  });
  it('truncates prompt at 5000 and negative_prompt at 500 code points', () => {
    const request = accept(t2v({ prompt: '😀'.repeat(5001), negative_prompt: '𝒳'.repeat(600) }));
    assert.equal([...(request.params.prompt as string)].length, 5000);
    assert.equal(request.params.prompt, '😀'.repeat(5000));
    assert.equal([...(request.params.negative_prompt as string)].length, 500);
    assert.equal(accept(t2v({ prompt: 'a'.repeat(5000) })).params.prompt, 'a'.repeat(5000));
  });
  it('accepts the five aspect ratios only', () => {
    for (const ratio of ['16:9', '9:16', '1:1', '4:3', '3:4']) assert.equal(accept(t2v({ aspect_ratio: ratio })).params.aspect_ratio, ratio);
    reject(t2v({ aspect_ratio: '21:9' }), 'aspect_ratio');
  });
  it('duration is an integer 2–15', () => {
    assert.equal(accept(t2v({ duration: 2 })).params.duration, 2);
    assert.equal(accept(t2v({ duration: 15 })).params.duration, 15);
    for (const bad of [1, 16, 5.5, '5', null]) reject(t2v({ duration: bad }), 'duration');
  });
  it('prompt_extend is a boolean', () => {
    assert.equal(accept(t2v({ prompt_extend: true })).params.prompt_extend, true);
    reject(t2v({ prompt_extend: 'yes' }), 'prompt_extend');
  });
  it('audio_urls holds exactly one URL; audio_url is an alias it beats', () => {
    assert.deepEqual(accept(t2v({ audio_urls: [AUDIO] })).media.map((m) => [m.field, m.url]), [['audio_urls[0]', AUDIO]]);
    assert.deepEqual(accept(t2v({ audio_url: AUDIO })).media.map((m) => [m.field, m.url]), [['audio_url', AUDIO]]);
    assert.deepEqual(accept(t2v({ audio_urls: [AUDIO], audio_url: URL_B })).media.map((m) => m.url), [AUDIO]);
    reject(t2v({ audio_urls: [] }), 'audio_urls');
    reject(t2v({ audio_urls: [AUDIO, AUDIO] }), 'audio_urls');
    reject(t2v({ audio_urls: AUDIO }), 'audio_urls');
    reject(t2v({ audio_urls: ['file:///etc/passwd'] }), 'audio_urls');
  });
  it('plans the output from quality and aspect ratio', () => {
    const spec = modelSpec('wan2.7-text-to-video');
    const plan = spec.plan(accept(t2v({ quality: '1080p', aspect_ratio: '3:4', duration: 7 })), {});
    assert.deepEqual(plan.output, { width: 1248, height: 1648, fps: 30, aspect_ratio: '3:4', duration_sec: 7 });
    assert.equal(plan.video_duration, 7);
    assert.equal(plan.billed_seconds, 7);
  });
});

describe('wan2.7-image-to-video material sets', () => {
  const valid: [string, Record<string, unknown>, string[]][] = [
    ['first_frame', { image_start: URL_A }, ['image_start']],
    ['first_frame', { image_start: URL_A, audio_urls: [AUDIO] }, ['image_start', 'audio_urls[0]']],
    ['first_last_frame', { image_start: URL_A, image_end: URL_B }, ['image_start', 'image_end']],
    ['first_last_frame', { image_start: URL_A, image_end: URL_B, audio_urls: [AUDIO] }, ['image_start', 'image_end', 'audio_urls[0]']],
    ['video_continuation', { video_urls: [CLIP] }, ['video_urls[0]']],
    ['video_continuation', { video_urls: [CLIP], image_end: URL_B }, ['image_end', 'video_urls[0]']],
  ];
  for (const [mode, materials, fields] of valid) {
    it(`accepts ${mode} with ${Object.keys(materials).join(' + ')}, explicit and inferred`, () => {
      for (const body of [i2v({ generation_mode: mode, ...materials }), i2v(materials)]) {
        const request = accept(body);
        assert.equal(request.params.generation_mode, mode);
        assert.deepEqual(request.media.map((m) => m.field).sort(), [...fields].sort());
      }
    });
  }

  const rejected: [string, Record<string, unknown>, string][] = [
    ['first_frame', {}, 'image_start'],
    ['first_frame', { image_end: URL_B }, 'image_start'],
    ['first_frame', { image_start: URL_A, image_end: URL_B }, 'image_end'],
    ['first_frame', { image_start: URL_A, video_urls: [CLIP] }, 'video_urls'],
    ['first_last_frame', { image_start: URL_A }, 'image_end'],
    ['first_last_frame', { image_end: URL_B }, 'image_start'],
    ['first_last_frame', { image_start: URL_A, image_end: URL_B, video_urls: [CLIP] }, 'video_urls'],
    ['video_continuation', {}, 'video_urls'],
    ['video_continuation', { image_start: URL_A }, 'image_start'],
    ['video_continuation', { video_urls: [CLIP], image_start: URL_A }, 'image_start'],
    ['video_continuation', { video_urls: [CLIP], audio_urls: [AUDIO] }, 'audio_urls'],
  ];
  for (const [mode, materials, field] of rejected) {
    it(`rejects ${mode} with {${Object.keys(materials).join(', ')}} naming ${field}`, () => {
      const message = reject(i2v({ generation_mode: mode, ...materials }), field);
      assert.match(message, new RegExp(mode));
    });
  }

  it('rejects inferred combinations naming the offending field', () => {
    reject(i2v({}), 'image_start');
    reject(i2v({ video_urls: [CLIP], image_start: URL_A }), 'image_start');
    reject(i2v({ video_urls: [CLIP], audio_urls: [AUDIO] }), 'audio_urls');
    reject(i2v({ image_end: URL_B }), 'image_start');
  });
  it('rejects an unknown generation_mode', () => {
    reject(i2v({ generation_mode: 'last_frame', image_start: URL_A }), 'generation_mode');
  });
  it('has no aspect_ratio: it is ignored', () => {
    assert.equal(accept(i2v({ image_start: URL_A, aspect_ratio: '1:1' })).params.aspect_ratio, undefined);
  });
  it('prompt is optional and truncated', () => {
    assert.equal(accept(i2v({ image_start: URL_A })).params.prompt, undefined);
    assert.equal((accept(i2v({ image_start: URL_A, prompt: 'x'.repeat(6000) })).params.prompt as string).length, 5000);
  });
});

const image = (width: number, height: number): MediaInfo => ({ container: 'png', bytes: 1000, width, height, hasAudio: false, hasVideo: true });
const clip = (durationSec: number, width = 1280, height = 720): MediaInfo => ({
  container: 'mp4', bytes: 1000, width, height, durationSec, fps: 30, hasAudio: true, hasVideo: true,
});

describe('wan2.7-image-to-video planning', () => {
  const spec = modelSpec('wan2.7-image-to-video');
  it('follows the nearest aspect ratio of the first image', () => {
    assert.deepEqual(spec.plan(accept(i2v({ image_start: URL_A })), { image_start: image(3000, 1000) }).output.aspect_ratio, '16:9');
    assert.deepEqual(spec.plan(accept(i2v({ image_start: URL_A })), { image_start: image(1000, 1100) }).output.aspect_ratio, '1:1');
    assert.deepEqual(spec.plan(accept(i2v({ image_start: URL_A, quality: '1080p' })), { image_start: image(700, 1000) }).output, {
      width: 1248, height: 1648, fps: 30, aspect_ratio: '3:4', duration_sec: 5,
    });
  });
  it('continuation: duration is the total and must cover the clip', () => {
    const request = accept(i2v({ video_urls: [CLIP], duration: 8 }));
    const plan = spec.plan(request, { 'video_urls[0]': clip(5) });
    assert.equal(plan.video_duration, 8);
    assert.equal(plan.billed_seconds, 8);
    assert.equal(spec.plan(accept(i2v({ video_urls: [CLIP], duration: 5 })), { 'video_urls[0]': clip(5.02) }).video_duration, 5);
    assert.throws(() => spec.plan(accept(i2v({ video_urls: [CLIP], duration: 4 })), { 'video_urls[0]': clip(5) }), /^ApiError: duration: 4 s is shorter/);
  });
});

describe('wan2.7-video-edit', () => {
  const spec = modelSpec('wan2.7-video-edit');
  it('requires exactly one video', () => {
    reject({ model: 'wan2.7-video-edit' }, 'video_urls');
    reject(edit({ video_urls: [] }), 'video_urls');
    reject(edit({ video_urls: [CLIP, CLIP] }), 'video_urls');
  });
  it('takes up to 4 reference images', () => {
    assert.equal(accept(edit({ image_urls: [URL_A, URL_A, URL_A, URL_A] })).media.length, 5);
    reject(edit({ image_urls: [URL_A, URL_A, URL_A, URL_A, URL_A] }), 'image_urls');
  });
  it('duration is 0 or 2–10, default 0', () => {
    assert.equal(accept(edit()).params.duration, 0);
    for (const ok of [0, 2, 10]) assert.equal(accept(edit({ duration: ok })).params.duration, ok);
    for (const bad of [1, 11, -1, 2.5]) reject(edit({ duration: bad }), 'duration');
  });
  it('defaults keep_original_sound and prompt_extend to false', () => {
    assert.equal(accept(edit()).params.keep_original_sound, false);
    assert.equal(accept(edit()).params.prompt_extend, false);
    reject(edit({ keep_original_sound: 1 }), 'keep_original_sound');
  });
  it('duration 0 keeps the input length; bills input + output seconds', () => {
    const plan = spec.plan(accept(edit()), { 'video_urls[0]': clip(6.02, 720, 1280) });
    assert.equal(plan.video_duration, 6);
    assert.equal(plan.billed_seconds, 12);
    assert.equal(plan.output.aspect_ratio, '9:16');
  });
  it('duration cuts the input and may not exceed it', () => {
    const plan = spec.plan(accept(edit({ duration: 4, aspect_ratio: '1:1' })), { 'video_urls[0]': clip(6) });
    assert.deepEqual([plan.video_duration, plan.billed_seconds, plan.output.aspect_ratio, plan.output.duration_sec], [4, 8, '1:1', 4]);
    assert.throws(() => spec.plan(accept(edit({ duration: 8 })), { 'video_urls[0]': clip(6) }), /duration: 8 s is longer than the 6 s clip/);
  });
});

describe('happyhorse-1.0-video-edit', () => {
  const spec = modelSpec('happyhorse-1.0-video-edit');
  it('requires a prompt', () => {
    reject(horse({ prompt: undefined }), 'prompt');
    reject(horse({ prompt: '' }), 'prompt');
  });
  it('truncates at 2500 code points when the prompt holds a Han character, else 5000', () => {
    assert.equal([...(accept(horse({ prompt: 'a'.repeat(6000) })).params.prompt as string)].length, 5000);
    assert.equal([...(accept(horse({ prompt: `下${'a'.repeat(6000)}` })).params.prompt as string)].length, 2500);
    assert.equal([...(accept(horse({ prompt: `${'a'.repeat(4000)}雪` })).params.prompt as string)].length, 2500);
    assert.equal([...(accept(horse({ prompt: 'こんにちは'.repeat(1200) })).params.prompt as string)].length, 5000); // kana is not Han
    assert.equal(accept(horse({ prompt: '雪'.repeat(2500) })).params.prompt, '雪'.repeat(2500));
  });
  it('resolves video aliases: video_urls, then video_url, then video', () => {
    const source = (body: Record<string, unknown>) => accept(body).media[0];
    assert.deepEqual(
      [source(horse({ video_url: URL_A, video: URL_B })).url, source(horse({ video_url: URL_A, video: URL_B })).field],
      [CLIP, 'video_urls[0]'],
    );
    const noArray = { model: 'happyhorse-1.0-video-edit', prompt: 'x' };
    assert.deepEqual([source({ ...noArray, video_url: URL_A, video: URL_B }).url, source({ ...noArray, video_url: URL_A }).field], [URL_A, 'video_url']);
    assert.deepEqual([source({ ...noArray, video: URL_B }).url, source({ ...noArray, video: URL_B }).field], [URL_B, 'video']);
    assert.equal(source({ ...noArray, video_urls: [], video: URL_B }).url, URL_B);
    assert.equal(source({ ...noArray, video_urls: [CLIP, URL_A] }).url, CLIP);
  });
  it('answers missing_video_urls when no video field is given', () => {
    reject({ model: 'happyhorse-1.0-video-edit', prompt: 'x' }, 'video_urls', 'missing_video_urls');
    reject({ model: 'happyhorse-1.0-video-edit', prompt: 'x', video_urls: [] }, 'video_urls', 'missing_video_urls');
  });
  it('takes up to 5 reference images', () => {
    assert.equal(accept(horse({ image_urls: Array(5).fill(URL_A) })).media.length, 6);
    reject(horse({ image_urls: Array(6).fill(URL_A) }), 'image_urls');
  });
  it('has no duration or aspect_ratio: both ignored', () => {
    assert.deepEqual(accept(horse({ duration: 3, aspect_ratio: '1:1' })).params, accept(horse()).params);
  });
  it('outputs min(input, 15) s at 24 fps; reserves twice that', () => {
    const short = spec.plan(accept(horse()), { 'video_urls[0]': clip(6) });
    assert.deepEqual([short.video_duration, short.billed_seconds, short.output.fps], [6, 12, 24]);
    const long = spec.plan(accept(horse()), { 'video_urls[0]': clip(42) });
    assert.deepEqual([long.video_duration, long.billed_seconds, long.output.duration_sec], [15, 30, 15]);
    const aliased = accept({ model: 'happyhorse-1.0-video-edit', prompt: 'x', video: CLIP });
    assert.equal(spec.plan(aliased, { video: clip(4, 640, 640) }).output.aspect_ratio, '1:1');
  });
});

describe('model selection', () => {
  it('rejects a missing or unknown model naming the field', () => {
    reject({ prompt: 'x' }, 'model');
    reject({ model: 'wan2.8-text-to-video', prompt: 'x' }, 'model');
    reject({ model: 7 }, 'model');
  });

  it('maps old client names to the documented id, and names the closest id for a typo (CONTRACT §9.3)', () => {
    assert.equal(resolveModelId('veo3.1-fast'), 'veo3.1-fast-beta');
    assert.equal(resolveModelId('grok-imagine-image-to-video'), 'grok-imagine-image-to-video-beta');
    assert.equal(resolveModelId('seedance-1.5-pro'), 'seedance-1.5-pro');
    assert.throws(() => resolveModelId('seedance-2.0-text-to-vdeo'), /model: unknown model "seedance-2.0-text-to-vdeo"; did you mean "seedance-2.0-text-to-video"\?/);
    assert.throws(() => resolveModelId('sora-2'), /did you mean "sora-2-preview"/);
    assert.throws(() => resolveModelId('a-painting-robot'), /unknown model "a-painting-robot"; see GET \/v1\/models/);
  });
});

import { HAPPYHORSE_IMAGE, type MediaLimits, WAN_IMAGE } from '../media-limits.ts';

/** Media limits the catalog's prose states (CATALOG.md §4), one constant per family and kind. */
const MB = 1024 * 1024;
const PICTURES = ['jpeg', 'png', 'webp'] as const;
const CLIPS = ['mp4', 'mov'] as const;
const SOUNDS = ['wav', 'mp3'] as const;

const image = (maxMb: number, rest: Partial<MediaLimits> = {}): MediaLimits => ({ kind: 'image', formats: PICTURES, maxBytes: maxMb * MB, ...rest });
const clip = (maxMb: number, seconds: readonly [number, number], rest: Partial<MediaLimits> = {}): MediaLimits => ({
  kind: 'video', formats: CLIPS, maxBytes: maxMb * MB, durationSec: seconds, ...rest,
});
const sound = (maxMb: number, seconds: readonly [number, number], rest: Partial<MediaLimits> = {}): MediaLimits => ({
  kind: 'audio', formats: SOUNDS, maxBytes: maxMb * MB, durationSec: seconds, ...rest,
});

export const LIMITS = {
  wan25Image: { ...WAN_IMAGE, maxBytes: 10 * MB, side: [360, 2000] },
  wan26Audio: sound(15, [3, 30], { formats: ['mp3'] }),
  wan26Reference: clip(100, [2, 30]),
  wanImage: WAN_IMAGE,
  wan27Reference: clip(100, [1, 30], { side: [240, 4096], maxAspect: 8 }),
  wan27Voice: sound(15, [1, 10]),
  wan30Reference: clip(100, [1, 15], { side: [240, 4096], maxAspect: 8 }),
  wan30Audio: sound(15, [1, 15]),
  happyhorseImage: HAPPYHORSE_IMAGE,
  happyhorseReference: { ...HAPPYHORSE_IMAGE, side: [400, Infinity] },
  seedance1Image: image(10),
  seedance15Image: image(10, { side: [300, 6000], maxAspect: 2.5 }),
  seedance2Image: image(30, { side: [300, 6000], maxAspect: 2.5 }),
  seedance25FrameImage: image(30, { side: [300, 6000], maxAspect: 2 }),
  seedance2Video: clip(50, [2, 15], { side: [300, 6000], maxAspect: 2.5, fpsRange: [24, 60] }),
  seedance2Audio: sound(15, [2, 15]),
  seedance25Video: clip(200, [2, 30], { side: [300, 6000], maxAspect: 2.5, fpsRange: [24, 60] }),
  seedance25EditVideo: clip(200, [4, 30], { side: [300, 6000], maxAspect: 2.5, fpsRange: [24, 60] }),
  seedance25Audio: sound(15, [2, 30]),
  klingImage: image(10, { formats: ['jpeg', 'png'], side: [300, Infinity], maxAspect: 2.5 }),
  klingO1Image: image(10),
  klingTurboImage: image(50, { formats: ['jpeg', 'png'], side: [300, Infinity], maxAspect: 2.5 }),
  klingO1Clip: clip(100, [3, 10]),
  klingO1FastClip: clip(100, [6, 20]),
  klingO3Video: clip(200, [3, 3600], { side: [720, 2160], fpsRange: [24, 60] }),
  klingMotionVideo: clip(100, [3, 30], { side: [340, 3850] }),
  klingElementImage: image(10, { side: [300, Infinity], maxAspect: 2.5 }),
  klingElementVideo: clip(100, [1, 8], { side: [720, Infinity] }),
  hailuoImage: image(20, { side: [301, Infinity], maxAspect: 2.5 }),
  h3Image: image(30, { side: [256, 5760], maxAspect: 2.5 }),
  h3Video: clip(50, [2, 15], { side: [256, 5760], maxAspect: 2.5, fpsRange: [23.976, 60] }),
  h3Audio: sound(15, [2, 15]),
  veoImage: image(10),
  soraImage: image(10),
  grokImage: image(10),
  geminiImage: image(20),
  geminiClip: clip(100, [3, 10], { formats: ['mp4'] }),
  omnihumanAudio: sound(15, [1, 35]),
  omnihumanImage: image(10),
  omnihumanMask: image(10, { formats: ['png', 'jpeg', 'webp'] }),
  retalkVideo: clip(300, [2, 300]),
  retalkAudio: sound(30, [1, 300]),
  retalkImage: image(10),
  topazVideo: clip(500, [1, 600], { formats: ['mp4'] }),
} satisfies Record<string, MediaLimits>;

/** Frame rates the previews use per family (the rate each model's service documents or uses). */
export const FAMILY_FPS: Readonly<Record<string, number>> = Object.freeze({
  wan: 30, happyhorse: 24, seedance: 24, kling: 24, minimax: 25, veo: 24, sora: 30, grok: 24, gemini: 24, other: 25,
});

/** Who makes each family's models (`owned_by` in /v1/models). */
export const FAMILY_OWNER: Readonly<Record<string, string>> = Object.freeze({
  wan: 'alibaba', happyhorse: 'alibaba', seedance: 'bytedance', kling: 'kuaishou', minimax: 'minimax', veo: 'google', sora: 'openai',
  grok: 'xai', gemini: 'google', other: 'various',
});

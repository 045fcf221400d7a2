import { invalidField } from '../../errors.ts';
import { type Body, type CatalogEntry, firstOf, secondsOf } from '../entry.ts';
import { LIMITS } from '../limits.ts';
import { count, durationField, fixedLength, inputLength, intEnum, oneOfPresent, textEnum, totalAtMost } from '../rules.ts';

/** MiniMax, Veo, Sora, Grok, Gemini and the three others: CATALOG.md §4.5–§4.10. */

function hailuo(id: string, kind: 'multi-mode' | 'i2v'): CatalogEntry {
  return {
    id, file: id, family: 'minimax', kind, preview: 'image', billing: 'per_second',
    media: { image_urls: LIMITS.hailuoImage },
    sound: () => false,
    check(body) {
      if (body.quality === '1080p' && body.duration !== 6) throw invalidField('duration', 'must be 6 at 1080p');
      if (body.quality === '512p' && count(body, 'image_urls') === 0) throw invalidField('quality', '"512p" needs an image in image_urls (image-to-video only)');
      if (count(body, 'image_urls') === 0 && typeof body.prompt !== 'string') throw invalidField('prompt', 'is required without images (text-to-video)');
    },
  };
}

const h3 = (id: string, kind: 't2v' | 'i2v' | 'r2v'): CatalogEntry => ({
  id, file: id, family: 'minimax', kind, preview: ({ t2v: 'text', i2v: 'image', r2v: 'references' } as const)[kind], billing: 'per_second',
  media: { image_start: LIMITS.h3Image, image_end: LIMITS.h3Image, image_urls: LIMITS.h3Image, video_urls: LIMITS.h3Video, audio_urls: LIMITS.h3Audio },
  inputSeconds: kind === 'r2v' ? (media) => secondsOf(media, 'video_urls') : undefined,
  check(body) {
    if (kind === 'i2v') oneOfPresent(body, ['image_start', 'image_end']);
    if (kind !== 'r2v') return;
    const total = count(body, 'image_urls') + count(body, 'video_urls') + count(body, 'audio_urls');
    if (total === 0) oneOfPresent(body, ['image_urls', 'video_urls', 'audio_urls'], 'a reference is required');
    if (total > 12) throw invalidField('image_urls', `images, videos and audio add up to ${total}; at most 12`);
  },
  checkMedia(_body, media) {
    totalAtMost(media, 'video_urls', 15);
    totalAtMost(media, 'audio_urls', 15);
  },
});

/** Veo's generation_type when omitted, from the image count (CATALOG.md §4.6). */
function veoMode(body: Body): string {
  return typeof body.generation_type === 'string' ? body.generation_type : count(body, 'image_urls') > 0 ? 'FIRST&LAST' : 'TEXT';
}

function checkVeoMode(body: Body): void {
  const mode = veoMode(body);
  const images = count(body, 'image_urls');
  if (mode === 'TEXT' && images > 0) throw invalidField('image_urls', 'is not accepted when generation_type is "TEXT"');
  if (mode === 'FIRST&LAST' && (images < 1 || images > 2)) throw invalidField('image_urls', 'must hold 1 or 2 images when generation_type is "FIRST&LAST"');
  if (mode === 'REFERENCE' && images < 1) throw invalidField('image_urls', 'must hold 1 to 3 images when generation_type is "REFERENCE"');
  if (mode === 'REFERENCE' && body.aspect_ratio !== undefined && !['16:9', 'auto'].includes(String(body.aspect_ratio))) {
    throw invalidField('aspect_ratio', 'must be "16:9" when generation_type is "REFERENCE"');
  }
}

const veoPreview = (id: string): CatalogEntry => ({
  id, file: id, family: 'veo', kind: 'multi-mode', preview: 'image', billing: 'per_second',
  patch: {
    duration: intEnum([4, 6, 8], 4), quality: textEnum(['720p', '1080p', '4k'], '720p'), generate_audio: { default: true }, n: { default: 1 },
    person_generation: { default: 'allow_adult' },
  },
  media: { image_urls: LIMITS.veoImage },
  // REFERENCE always makes 8 s at 16:9.
  duration: (body) => ({ seconds: veoMode(body) === 'REFERENCE' ? 8 : Number(body.duration) }),
  check: checkVeoMode,
});

const veoBeta = (id: string): CatalogEntry => ({
  id, file: id, family: 'veo', kind: 'multi-mode', preview: 'image', billing: 'per_call',
  patch: { quality: { default: '720p' } },
  media: { image_urls: LIMITS.veoImage },
  duration: fixedLength(8),
  check: checkVeoMode,
});

const sora = (id: string, billing: CatalogEntry['billing']): CatalogEntry => ({
  id, file: id, family: 'sora', kind: 'multi-mode', preview: 'image', billing,
  patch: { duration: intEnum([4, 8, 12], 4), ...(billing === 'per_second' ? { quality: { default: '720p' } } : {}) },
  media: { image_urls: LIMITS.soraImage },
  quality: '720p',
  defaultRatio: 16 / 9,
  checkMedia(body, media) {
    const image = firstOf(media, 'image_urls');
    const pixels = /^(\d+)x(\d+)$/.exec(String(body.aspect_ratio ?? ''));
    if (image && pixels && (image.width !== Number(pixels[1]) || image.height !== Number(pixels[2]))) {
      throw invalidField('image_urls[0]', `is ${image.width}×${image.height}; with aspect_ratio "${body.aspect_ratio}" the image must be exactly ${pixels[1]}×${pixels[2]}`);
    }
  },
});

const grok = (id: string, kind: 't2v' | 'i2v' | 'multi-mode', billing: CatalogEntry['billing']): CatalogEntry => ({
  id, file: id, family: 'grok', kind, preview: kind === 't2v' ? 'text' : 'image', billing,
  // The text-only 1.0 model answers an error to images (CATALOG.md §4.8): the registry states it as a field that takes none.
  patch: id === 'grok-imagine-video-1.0-t2v'
    ? { image_urls: { type: 'array', items: { type: 'string', format: 'uri' }, maxItems: 0, description: 'Not accepted: this model makes video from text only' } }
    : id === 'grok-imagine-video-1.5-preview' ? { prompt: { maxLength: 4096 } } : {},
  media: { image_urls: LIMITS.grokImage },
  check(body) {
    if (id === 'grok-imagine-video-1.5-preview' && body.quality === '1080p' && count(body, 'image_urls') >= 2) {
      throw invalidField('quality', '"1080p" takes at most 1 image');
    }
  },
});

const gemini = (id: string, kind: 't2v' | 'i2v' | 'r2v' | 'edit'): CatalogEntry => ({
  id, file: id, family: 'gemini', kind, preview: ({ t2v: 'text', i2v: 'image', r2v: 'references', edit: 'edit' } as const)[kind], billing: 'per_token',
  require: ({ t2v: [], i2v: ['image_urls'], r2v: ['image_urls'], edit: ['video_urls'] } as const)[kind],
  media: { image_urls: LIMITS.geminiImage, video_urls: LIMITS.geminiClip },
  inline: kind === 'i2v' || kind === 'r2v' ? ['image_urls'] : undefined,
  quality: '720p',
  duration: kind === 'edit' ? inputLength('video_urls', 10) : durationField(10, 8),
});

export const OTHER_ENTRIES: CatalogEntry[] = [
  hailuo('MiniMax-Hailuo-02', 'multi-mode'),
  hailuo('MiniMax-Hailuo-2.3', 'multi-mode'),
  hailuo('MiniMax-Hailuo-2.3-Fast', 'i2v'),
  h3('minimax-h3-text-to-video', 't2v'),
  h3('minimax-h3-image-to-video', 'i2v'),
  h3('minimax-h3-reference-to-video', 'r2v'),
  veoPreview('veo-3.1-generate-preview'),
  veoPreview('veo-3.1-fast-generate-preview'),
  veoBeta('veo3.1-pro-beta'),
  veoBeta('veo3.1-fast-beta'),
  sora('sora-2-preview', 'per_call'),
  sora('sora-2-pro-preview', 'per_second'),
  grok('grok-imagine-text-to-video-beta', 't2v', 'per_call'),
  grok('grok-imagine-image-to-video-beta', 'i2v', 'per_call'),
  grok('grok-imagine-video-1.0-t2v', 't2v', 'per_call'),
  grok('grok-imagine-video-1.0-i2v', 'i2v', 'per_call'),
  grok('grok-imagine-video-1.5-preview', 'multi-mode', 'per_second'),
  gemini('gemini-omni-flash-text-to-video', 't2v'),
  gemini('gemini-omni-flash-image-to-video', 'i2v'),
  gemini('gemini-omni-flash-reference-to-video', 'r2v'),
  gemini('gemini-omni-flash-video-edit', 'edit'),
  {
    id: 'omnihuman-1.5', file: 'omnihuman-1.5', family: 'other', kind: 'other', preview: 'avatar', billing: 'per_second',
    patch: { image_urls: { minItems: 1, maxItems: 1 } },
    media: { audio_url: LIMITS.omnihumanAudio, image_urls: LIMITS.omnihumanImage, mask_url: LIMITS.omnihumanMask },
    quality: '720p',
    // As long as the driving audio, billed on whole seconds of it.
    duration: (_body, media) => ({ seconds: Math.ceil((media.audio_url?.durationSec ?? 1) - 0.05) }),
  },
  {
    id: 'videoretalk', file: 'videoretalk', family: 'other', kind: 'other', preview: 'lipsync', billing: 'per_second',
    media: { video_url: LIMITS.retalkVideo, audio_url: LIMITS.retalkAudio, ref_image_url: LIMITS.retalkImage },
    quality: '720p',
    duration(body, media) {
      const video = media.video_url?.durationSec ?? 1;
      const audio = media.audio_url?.durationSec ?? 1;
      return { seconds: Math.min(60, body.video_extension === true ? audio : Math.min(video, audio)) };
    },
  },
  {
    id: 'topaz-video-upscale', file: 'topaz-video-upscale', family: 'other', kind: 'other', preview: 'upscale', billing: 'per_second',
    media: { video_urls: LIMITS.topazVideo },
    quality: '1080p',
    duration: inputLength('video_urls', 60),
  },
];

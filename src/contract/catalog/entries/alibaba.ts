import { invalidField } from '../../errors.ts';
import { type CatalogEntry, secondsOf } from '../entry.ts';
import { LIMITS } from '../limits.ts';
import { ASPECTS_5, cappedInputs, count, durationField, intEnum, needs, oneOfPresent, rangeOrAuto, textEnum, totalAtMost } from '../rules.ts';

/** Wan (beyond the three seed models) and HappyHorse (beyond its seed edit model): CATALOG.md §4.1–§4.2. */

const wan25 = (id: string, kind: 't2v' | 'i2v'): CatalogEntry => ({
  id, file: id, family: 'wan', kind, preview: kind === 't2v' ? 'text' : 'image', billing: 'per_call',
  patch: {
    duration: intEnum([5, 10], 5),
    quality: textEnum(['480p', '720p', '1080p'], '720p'),
    ...(kind === 't2v' ? { aspect_ratio: textEnum(ASPECTS_5, '16:9') } : { image_urls: { minItems: 1 } }),
  },
  media: { image_urls: LIMITS.wan25Image },
  check(body) {
    if (body.quality === '480p' && ['4:3', '3:4'].includes(String(body.aspect_ratio))) throw invalidField('aspect_ratio', 'at 480p must be one of "16:9", "9:16", "1:1"');
  },
});

const wan26 = (id: string, kind: 't2v' | 'i2v' | 'r2v'): CatalogEntry => ({
  id, file: id, family: 'wan', kind, preview: { t2v: 'text', i2v: 'image', r2v: 'references' }[kind] as CatalogEntry['preview'], billing: 'per_call',
  patch: {
    quality: textEnum(['720p', '1080p'], '720p'),
    duration: { default: 5 },
    ...(kind !== 'i2v' ? { aspect_ratio: textEnum(ASPECTS_5, '16:9') } : { image_urls: { minItems: 1 } }),
    ...(kind !== 'r2v' ? { prompt_extend: { default: true } } : { video_urls: { minItems: 1 } }),
  },
  media: { image_urls: LIMITS.wan25Image, audio_url: LIMITS.wan26Audio, video_urls: LIMITS.wan26Reference },
  // References: input seconds billed too, capped at 5 s over all clips (CATALOG.md §4.1).
  inputSeconds: kind === 'r2v' ? (media) => cappedInputs(media, 'video_urls', [5, 2.5, 1.65]) : undefined,
});

const wan30 = (id: string, kind: 't2v' | 'i2v' | 'r2v'): CatalogEntry => ({
  id, file: id, family: 'wan', kind, preview: { t2v: 'text', i2v: 'image', r2v: 'references' }[kind] as CatalogEntry['preview'], billing: 'per_second',
  patch: { duration: rangeOrAuto(2, 30, 5) },
  truncate: { max: 20000 },
  media: { image_start: LIMITS.wanImage, image_end: LIMITS.wanImage, image_urls: LIMITS.wanImage, video_urls: LIMITS.wan30Reference, audio_urls: LIMITS.wan30Audio },
  links: ['model_params.file_url', 'model_params.link_url'],
  duration: durationField(30, 5),
  inputSeconds: (media) => secondsOf(media, 'video_urls'),
  check(body) {
    needs(body, 'image_end', 'image_start');
    if (kind !== 'r2v') return;
    const params = (body.model_params ?? {}) as Record<string, unknown>;
    if (params.file_url !== undefined && params.link_url !== undefined) throw invalidField('model_params.link_url', 'give file_url or link_url, not both');
    const material = ['image_urls', 'video_urls', 'audio_urls'].some((f) => count(body, f) > 0) || params.file_url || params.link_url;
    if (!body.prompt && !material) throw invalidField('prompt', 'is required when no reference material is given');
  },
  checkMedia(body, media) {
    totalAtMost(media, 'video_urls', 15);
    totalAtMost(media, 'audio_urls', 15);
    const references = secondsOf(media, 'video_urls');
    const seconds = body.duration === -1 ? 0 : Number(body.duration);
    if (references > 0 && references + seconds > 30.1) throw invalidField('duration', `reference clips (${+references.toFixed(2)} s) plus duration must be at most 30 s`);
  },
});

const happyhorse = (id: string, kind: 't2v' | 'i2v' | 'r2v'): CatalogEntry => ({
  id, file: id, family: 'happyhorse', kind, preview: { t2v: 'text', i2v: 'image', r2v: 'references' }[kind] as CatalogEntry['preview'], billing: 'per_second',
  truncate: { max: 5000, chinese: 2500 },
  media: { image_urls: kind === 'r2v' ? LIMITS.happyhorseReference : LIMITS.happyhorseImage },
});

export const ALIBABA_ENTRIES: CatalogEntry[] = [
  wan25('wan2.5-text-to-video', 't2v'),
  wan25('wan2.5-image-to-video', 'i2v'),
  wan26('wan2.6-text-to-video', 't2v'),
  wan26('wan2.6-image-to-video', 'i2v'),
  wan26('wan2.6-image-to-video-flash', 'i2v'),
  wan26('wan2.6-reference-video', 'r2v'),
  wan26('wan2.6-reference-video-flash', 'r2v'),
  {
    id: 'wan2.7-reference-video', file: 'wan2.7-reference-video', family: 'wan', kind: 'r2v', preview: 'references', billing: 'per_call',
    media: {
      image_start: LIMITS.wanImage, image_urls: LIMITS.wanImage, video_urls: LIMITS.wan27Reference, audio_urls: LIMITS.wan27Voice,
      'model_params.voice_bindings.*': LIMITS.wan27Voice,
    },
    inputSeconds: (media) => secondsOf(media, 'video_urls'),
    check(body) {
      const references = count(body, 'image_urls') + count(body, 'video_urls');
      if (references === 0) oneOfPresent(body, ['image_urls', 'video_urls'], 'a reference is required (image_start alone is not enough)');
      if (references > 5) throw invalidField('image_urls', `image_urls and video_urls hold ${references} references together; at most 5`);
      if (count(body, 'video_urls') > 0 && Number(body.duration) > 10) throw invalidField('duration', 'must be at most 10 when video_urls is given');
      const bindings = ((body.model_params ?? {}) as Record<string, unknown>).voice_bindings as Record<string, unknown> | undefined;
      for (const key of Object.keys(bindings ?? {})) {
        const match = /^(image|video)([1-9]\d*)$/.exec(key);
        if (!match) throw invalidField(`model_params.voice_bindings.${key}`, `voice_bindings key "${key}" invalid: use image1…, video1…`);
        if (Number(match[2]) > count(body, `${match[1]}_urls`)) throw invalidField(`model_params.voice_bindings.${key}`, `voice_bindings.${key} out of range`);
      }
      if (Object.keys(bindings ?? {}).length > 5) throw invalidField('model_params.voice_bindings', 'must hold at most 5 voices');
    },
  },
  wan30('wan3.0-text-to-video', 't2v'),
  wan30('wan3.0-image-to-video', 'i2v'),
  wan30('wan3.0-reference-video', 'r2v'),
  happyhorse('happyhorse-1.0-text-to-video', 't2v'),
  happyhorse('happyhorse-1.0-image-to-video', 'i2v'),
  happyhorse('happyhorse-1.0-reference-to-video', 'r2v'),
  happyhorse('happyhorse-1.1-text-to-video', 't2v'),
  happyhorse('happyhorse-1.1-image-to-video', 'i2v'),
  happyhorse('happyhorse-1.1-reference-to-video', 'r2v'),
];

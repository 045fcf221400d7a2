import { invalidField } from '../../errors.ts';
import { type CatalogEntry, secondsOf } from '../entry.ts';
import { LIMITS } from '../limits.ts';
import { count, durationField, inputLength, oneOfPresent, rangeOrAuto, textEnum, totalAtMost } from '../rules.ts';

/** Seedance (ByteDance): CATALOG.md §4.3. */

const SEEDANCE1_ASPECTS = ['16:9', '9:16', '1:1', '4:3', '3:4', '21:9'];
const billsReferenceVideo = (media: Parameters<NonNullable<CatalogEntry['inputSeconds']>>[0]) => secondsOf(media, 'video_urls');

const seedance2 = (id: string, kind: 't2v' | 'i2v' | 'r2v'): CatalogEntry => ({
  id, file: id, family: 'seedance', kind, preview: { t2v: 'text', i2v: 'image', r2v: 'references' }[kind] as CatalogEntry['preview'], billing: 'per_second',
  media: { image_urls: LIMITS.seedance2Image, video_urls: LIMITS.seedance2Video, audio_urls: LIMITS.seedance2Audio },
  inputSeconds: kind === 'r2v' ? billsReferenceVideo : undefined,
  check(body) {
    if (count(body, 'audio_urls') > 0 && count(body, 'image_urls') + count(body, 'video_urls') === 0) {
      throw invalidField('audio_urls', 'cannot be the only reference: add at least one image or video');
    }
  },
  checkMedia(_body, media) {
    totalAtMost(media, 'video_urls', 15);
    totalAtMost(media, 'audio_urls', 15);
  },
});

const seedance25 = (id: string, kind: 't2v' | 'i2v' | 'r2v' | 'edit' | 'extend'): CatalogEntry => ({
  id, file: id, family: 'seedance', kind,
  preview: ({ t2v: 'text', i2v: 'image', r2v: 'references', edit: 'edit', extend: 'extend' } as const)[kind],
  billing: 'per_second',
  patch: kind === 'edit' ? {} : { duration: rangeOrAuto(4, 30, 5) },
  media: {
    image_urls: kind === 'i2v' ? LIMITS.seedance25FrameImage : LIMITS.seedance2Image,
    video_urls: kind === 'edit' ? LIMITS.seedance25EditVideo : LIMITS.seedance25Video,
    audio_urls: LIMITS.seedance25Audio,
  },
  duration: kind === 'edit' ? inputLength('video_urls', 30) : durationField(30, 5),
  inputSeconds: ['r2v', 'edit', 'extend'].includes(kind) ? billsReferenceVideo : undefined,
  check(body) {
    if (kind === 'r2v') oneOfPresent(body, ['image_urls', 'video_urls', 'audio_urls'], 'a reference is required');
  },
  checkMedia(_body, media) {
    totalAtMost(media, 'video_urls', 30);
    totalAtMost(media, 'audio_urls', 30);
  },
});

export const SEEDANCE_ENTRIES: CatalogEntry[] = [
  {
    id: 'doubao-seedance-1.0-pro-fast', file: 'doubao-seedance-1.0-pro-fast', family: 'seedance', kind: 'multi-mode', preview: 'image', billing: 'per_call',
    patch: {
      duration: { default: 5 },
      quality: { default: '1080p' },
      aspect_ratio: textEnum([...SEEDANCE1_ASPECTS, 'adaptive', 'keep_ratio']),
    },
    media: { image_urls: LIMITS.seedance1Image },
    check(body) {
      if (count(body, 'image_urls') === 0 && ['adaptive', 'keep_ratio'].includes(String(body.aspect_ratio))) {
        throw invalidField('aspect_ratio', `"${body.aspect_ratio}" needs an image in image_urls; text-to-video takes ${SEEDANCE1_ASPECTS.join(', ')}`);
      }
    },
  },
  {
    id: 'seedance-1.5-pro', file: 'seedance-1.5-pro', family: 'seedance', kind: 'multi-mode', preview: 'image', billing: 'per_call',
    patch: { duration: { default: 5 }, quality: { default: '720p' }, aspect_ratio: textEnum([...SEEDANCE1_ASPECTS, 'adaptive'], '16:9') },
    media: { image_urls: LIMITS.seedance15Image },
  },
  seedance2('seedance-2.0-text-to-video', 't2v'),
  seedance2('seedance-2.0-image-to-video', 'i2v'),
  seedance2('seedance-2.0-reference-to-video', 'r2v'),
  seedance2('seedance-2.0-fast-text-to-video', 't2v'),
  seedance2('seedance-2.0-fast-image-to-video', 'i2v'),
  seedance2('seedance-2.0-fast-reference-to-video', 'r2v'),
  seedance2('seedance-2.0-mini-text-to-video', 't2v'),
  seedance2('seedance-2.0-mini-image-to-video', 'i2v'),
  seedance2('seedance-2.0-mini-reference-to-video', 'r2v'),
  seedance25('seedance-2.5-text-to-video', 't2v'),
  seedance25('seedance-2.5-image-to-video', 'i2v'),
  seedance25('seedance-2.5-reference-to-video', 'r2v'),
  seedance25('seedance-2.5-video-edit', 'edit'),
  seedance25('seedance-2.5-video-extend', 'extend'),
];

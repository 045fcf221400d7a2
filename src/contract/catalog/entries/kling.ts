import { invalidField } from '../../errors.ts';
import type { Body, CatalogEntry } from '../entry.ts';
import { LIMITS } from '../limits.ts';
import { checkKlingShots, count, elementCount, fixedLength, inputLength, needs } from '../rules.ts';

/** Kling (Kuaishou): CATALOG.md §4.4. */

const soundOn = (body: Body) => body.sound === 'on';

const shots = (body: Body) => checkKlingShots(body, Number(body.duration ?? 5), true);

function atMostReferences(body: Body, max: number, what: string): void {
  const total = count(body, 'image_urls') + elementCount(body);
  if (total > max) throw invalidField('image_urls', `images and elements add up to ${total}; at most ${max} ${what}`);
}

export const KLING_ENTRIES: CatalogEntry[] = [
  {
    id: 'kling-o1-image-to-video', file: 'kling-o1-image-to-video', family: 'kling', kind: 'i2v', preview: 'image', billing: 'per_call',
    media: { image_urls: LIMITS.klingO1Image }, quality: '720p', sound: () => false,
  },
  {
    id: 'kling-o1-video-edit', file: 'kling-o1-video-edit', family: 'kling', kind: 'edit', preview: 'edit', billing: 'per_call',
    media: { video_urls: LIMITS.klingO1Clip, image_urls: LIMITS.klingO1Image }, quality: '720p', duration: inputLength('video_urls', 10),
  },
  {
    id: 'kling-o1-video-edit-fast', file: 'kling-o1-video-edit-fast', family: 'kling', kind: 'edit', preview: 'edit', billing: 'per_call',
    media: { video_urls: LIMITS.klingO1FastClip, image_urls: LIMITS.klingO1Image }, quality: '720p', duration: inputLength('video_urls', 20),
  },
  {
    id: 'kling-o3-text-to-video', file: 'kling-o3-text-to-video', family: 'kling', kind: 't2v', preview: 'text', billing: 'per_call', optional: ['prompt'],
    sound: soundOn, check: shots,
  },
  {
    id: 'kling-o3-image-to-video', file: 'kling-o3-image-to-video', family: 'kling', kind: 'i2v', preview: 'image', billing: 'per_call', optional: ['prompt'],
    patch: { quality: { default: '720p' } },
    media: { image_start: LIMITS.klingImage, image_end: LIMITS.klingImage, image_urls: LIMITS.klingImage },
    sound: soundOn,
    check(body) {
      needs(body, 'image_end', 'image_start');
      shots(body);
      const images = count(body, 'image_urls') + count(body, 'image_start') + count(body, 'image_end');
      if (body.image_end !== undefined && images > 2) throw invalidField('image_end', 'is not accepted with more than 2 images in total');
      if (body.image_start !== undefined && elementCount(body) > 3) throw invalidField('model_params.element_list', 'must hold at most 3 elements with a first frame');
      if (images + elementCount(body) > 7) throw invalidField('image_urls', `images and elements add up to ${images + elementCount(body)}; at most 7`);
    },
  },
  {
    id: 'kling-o3-reference-to-video', file: 'kling-o3-reference-to-video', family: 'kling', kind: 'r2v', preview: 'references', billing: 'per_call',
    media: { video_url: LIMITS.klingO3Video, image_urls: LIMITS.klingImage },
    sound: (body) => body.video_url === undefined,
    check(body) {
      if (body.video_url !== undefined) atMostReferences(body, 4, 'with a reference video');
    },
  },
  {
    id: 'kling-o3-video-edit', file: 'kling-o3-video-edit', family: 'kling', kind: 'edit', preview: 'edit', billing: 'per_call',
    require: ['video_url'],
    media: { video_url: LIMITS.klingO3Video, image_urls: LIMITS.klingImage },
    duration: inputLength('video_url', 30),
    check: (body) => atMostReferences(body, 4, ''),
  },
  {
    id: 'kling-v3-text-to-video', file: 'kling-v3-text-to-video', family: 'kling', kind: 't2v', preview: 'text', billing: 'per_second', optional: ['prompt'],
    sound: soundOn, check: shots,
  },
  {
    id: 'kling-v3-image-to-video', file: 'kling-v3-image-to-video', family: 'kling', kind: 'i2v', preview: 'image', billing: 'per_second',
    media: { image_start: LIMITS.klingImage, image_end: LIMITS.klingImage }, sound: soundOn,
    check(body) {
      needs(body, 'image_end', 'image_start');
      checkKlingShots(body, Number(body.duration ?? 5), false);
    },
  },
  {
    id: 'kling-v3-turbo-text-to-video', file: 'kling-v3-turbo-text-to-video', family: 'kling', kind: 't2v', preview: 'text', billing: 'per_second',
    sound: () => false,
  },
  {
    id: 'kling-v3-turbo-image-to-video', file: 'kling-v3-turbo-image-to-video', family: 'kling', kind: 'i2v', preview: 'image', billing: 'per_second',
    media: { image_start: LIMITS.klingTurboImage }, sound: () => false,
  },
  {
    id: 'kling-v3-motion-control', file: 'kling-v3-motion-control', family: 'kling', kind: 'other', preview: 'motion', billing: 'per_second',
    patch: { image_urls: { minItems: 1, maxItems: 1 }, video_urls: { minItems: 1, maxItems: 1 } },
    media: { image_urls: LIMITS.klingImage, video_urls: LIMITS.klingMotionVideo },
    // The driving clip sets the length: at most 10 s when the character faces as in the image, 30 s as in the video.
    duration: (body, media) => inputLength('video_urls', (body.model_params as Body).character_orientation === 'image' ? 10 : 30)(body, media),
    sound: (body) => (body.model_params as Body).keep_sound !== false,
    check(body) {
      if (elementCount(body) > 0 && (body.model_params as Body).character_orientation !== 'video') {
        throw invalidField('model_params.character_orientation', 'must be "video" when element_list is given');
      }
    },
  },
  {
    id: 'kling-custom-element', file: 'kling-custom-element', family: 'kling', kind: 'other', preview: 'element', billing: 'per_call',
    media: {
      'model_params.element_image_list.frontal_image': LIMITS.klingElementImage,
      'model_params.element_image_list.refer_images.image_url': LIMITS.klingElementImage,
      'model_params.element_video_list.refer_videos.video_url': LIMITS.klingElementVideo,
    },
    quality: '720p', duration: fixedLength(3), sound: () => false,
    check(body) {
      const params = body.model_params as Body;
      const list = params.reference_type === 'image_refer' ? 'element_image_list' : 'element_video_list';
      if (params[list] === undefined) throw invalidField(`model_params.${list}`, `is required when reference_type is "${params.reference_type}"`);
      if (params.element_voice_id !== undefined && params.reference_type !== 'video_refer') {
        throw invalidField('model_params.element_voice_id', 'is only accepted with reference_type "video_refer"');
      }
    },
  },
];

import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { callbackUrl, keepOriginalSound, mediaUrl, quality, seed } from '../fields.ts';
import { HAPPYHORSE_CLIP, HAPPYHORSE_IMAGE } from '../media-limits.ts';
import { defineModel, sharedFields, wholeSeconds } from '../model-spec.ts';
import { nearestAspectRatio, outputFormat } from '../output-size.ts';
import { containsHan, truncateCodePoints } from '../text.ts';

export const HAPPYHORSE_FPS = 24;
export const MAX_OUTPUT_SEC = 15;

/** The prompt limit: 2500 code points when it holds any Han character, else 5000. */
export function happyhorsePromptLimit(prompt: string): number {
  return containsHan(prompt) ? 2500 : 5000;
}

export const schema = z
  .object({
    model: z.literal('happyhorse-1.0-video-edit'),
    prompt: z.string({ error: 'is required and must be a string' }).refine((p) => p.trim() !== '', { error: 'must not be empty' })
      .transform((p) => truncateCodePoints(p, happyhorsePromptLimit(p)))
      .describe('Edit instruction; truncated to 2500 code points if it holds a Han character, else 5000'),
    video_urls: z.array(mediaUrl, { error: 'must be an array of URL strings' }).optional()
      .describe('Source clip (first item used): MP4/MOV, 3–60 s, long edge ≤2160 px, short edge ≥320 px, 1:2.5–2.5:1, >8 fps, ≤100 MB'),
    video_url: mediaUrl.optional().describe('Alias of video_urls[0]; lower priority than video_urls'),
    video: mediaUrl.optional().describe('Alias of video_urls[0]; lowest priority'),
    image_urls: z.array(mediaUrl, { error: 'must be an array of URL strings' }).max(5, { error: 'must hold at most 5 URLs' }).optional()
      .describe('Up to 5 reference images: JPEG/PNG/WEBP, sides ≥300 px, 1:2.5–2.5:1, ≤10 MB'),
    keep_original_sound: keepOriginalSound,
    quality,
    seed,
    callback_url: callbackUrl.optional(),
  })
  .meta({ id: 'HappyHorseVideoEditRequest' });

function sourceVideo(body: z.output<typeof schema>): { field: string; url: string } {
  if (body.video_urls?.length) return { field: 'video_urls[0]', url: body.video_urls[0] };
  if (body.video_url) return { field: 'video_url', url: body.video_url };
  if (body.video) return { field: 'video', url: body.video };
  throw new ApiError('missing_video_urls', 'video_urls: a source video is required (video_urls, video_url or video)', { param: 'video_urls' });
}

export default defineModel({
  id: 'happyhorse-1.0-video-edit',
  owned_by: 'alibaba',
  family: 'happyhorse',
  kind: 'edit',
  schema,
  normalize(body) {
    const source = sourceVideo(body);
    const images = (body.image_urls ?? []).map((url, i) => ({ field: `image_urls[${i}]`, url, limits: HAPPYHORSE_IMAGE }));
    return {
      ...sharedFields(body),
      params: { prompt: body.prompt, keep_original_sound: body.keep_original_sound },
      media: [{ ...source, limits: HAPPYHORSE_CLIP }, ...images],
    };
  },
  plan(request, media) {
    const clip = media[request.media[0].field];
    const seconds = Math.min(clip.durationSec ?? 0, MAX_OUTPUT_SEC);
    const videoDuration = wholeSeconds(seconds);
    return {
      output: { ...outputFormat(request.quality, nearestAspectRatio(clip.width!, clip.height!), HAPPYHORSE_FPS), duration_sec: seconds },
      video_duration: videoDuration,
      billed_seconds: 2 * videoDuration, // min(input, 15) used + the same again as output
    };
  },
});

import { z } from 'zod';
import { invalidField } from '../errors.ts';
import { aspectRatio, callbackUrl, keepOriginalSound, mediaUrl, oneUrlArray, promptExtend, quality, seed, truncatedText } from '../fields.ts';
import { DURATION_TOLERANCE_SEC, WAN_CLIP, WAN_IMAGE } from '../media-limits.ts';
import { defineModel, sharedFields, wholeSeconds } from '../model-spec.ts';
import { type AspectRatio, nearestAspectRatio, outputFormat } from '../output-size.ts';
import { WAN_FPS } from './wan2.7-text-to-video.ts';

export const schema = z
  .object({
    model: z.literal('wan2.7-video-edit'),
    video_urls: oneUrlArray.describe('Source clip: MP4/MOV, 2–10 s, 240–4096 px, 1:8–8:1, ≤100 MB'),
    prompt: truncatedText(5000).optional(),
    negative_prompt: truncatedText(500).optional(),
    image_urls: z.array(mediaUrl, { error: 'must be an array of URL strings' }).max(4, { error: 'must hold at most 4 URLs' }).optional()
      .describe('Up to 4 reference images: JPEG/PNG(no alpha)/BMP/WEBP, 240–8000 px, 1:8–8:1, ≤20 MB'),
    keep_original_sound: keepOriginalSound,
    aspect_ratio: aspectRatio.optional().describe('Omitted: follows the input clip'),
    duration: z.int({ error: 'must be 0 or an integer from 2 to 10' })
      .refine((d) => d === 0 || (d >= 2 && d <= 10), { error: 'must be 0 or an integer from 2 to 10' })
      .default(0).describe('0 = keep the input length; 2–10 = cut the input from 0 s'),
    prompt_extend: promptExtend,
    quality,
    seed,
    callback_url: callbackUrl.optional(),
  })
  .meta({ id: 'Wan27VideoEditRequest' });

export default defineModel({
  id: 'wan2.7-video-edit',
  owned_by: 'alibaba',
  family: 'wan',
  kind: 'edit',
  schema,
  normalize(body) {
    const images = (body.image_urls ?? []).map((url, i) => ({ field: `image_urls[${i}]`, url, limits: WAN_IMAGE }));
    return {
      ...sharedFields(body),
      params: {
        prompt: body.prompt,
        negative_prompt: body.negative_prompt,
        keep_original_sound: body.keep_original_sound,
        aspect_ratio: body.aspect_ratio,
        duration: body.duration,
        prompt_extend: body.prompt_extend,
      },
      media: [{ field: 'video_urls[0]', url: body.video_urls[0], limits: WAN_CLIP }, ...images],
    };
  },
  plan(request, media) {
    const clip = media['video_urls[0]'];
    const input = clip.durationSec ?? 0;
    const cut = request.params.duration as number;
    if (cut > input + DURATION_TOLERANCE_SEC) {
      throw invalidField('duration', `${cut} s is longer than the ${+input.toFixed(2)} s clip in video_urls[0]`);
    }
    const seconds = cut === 0 ? input : cut;
    const aspect = (request.params.aspect_ratio as AspectRatio | undefined) ?? nearestAspectRatio(clip.width!, clip.height!);
    const videoDuration = cut === 0 ? wholeSeconds(input) : cut;
    return {
      output: { ...outputFormat(request.quality, aspect, WAN_FPS), duration_sec: seconds },
      video_duration: videoDuration,
      billed_seconds: 2 * videoDuration, // input seconds used + output seconds
    };
  },
});

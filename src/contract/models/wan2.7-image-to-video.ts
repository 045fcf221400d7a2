import { z } from 'zod';
import { invalidField } from '../errors.ts';
import { callbackUrl, intRange, mediaUrl, oneUrlArray, promptExtend, quality, seed, truncatedText } from '../fields.ts';
import { DURATION_TOLERANCE_SEC, type MediaInfo, type MediaNeed, WAN_AUDIO, WAN_CLIP, WAN_IMAGE } from '../media-limits.ts';
import { defineModel, sharedFields, wholeSeconds } from '../model-spec.ts';
import { nearestAspectRatio, outputFormat } from '../output-size.ts';
import { WAN_FPS } from './wan2.7-text-to-video.ts';

export const GENERATION_MODES = ['first_frame', 'first_last_frame', 'video_continuation'] as const;
type Mode = (typeof GENERATION_MODES)[number];
type Material = 'image_start' | 'image_end' | 'video_urls' | 'audio_urls';

/** The six valid material sets: per mode, each material is required, optional or rejected. */
const MATERIALS: Record<Mode, Record<Material, 'required' | 'optional' | 'rejected'>> = {
  first_frame: { image_start: 'required', image_end: 'rejected', video_urls: 'rejected', audio_urls: 'optional' },
  first_last_frame: { image_start: 'required', image_end: 'required', video_urls: 'rejected', audio_urls: 'optional' },
  video_continuation: { image_start: 'rejected', image_end: 'optional', video_urls: 'required', audio_urls: 'rejected' },
};

export const schema = z
  .object({
    model: z.literal('wan2.7-image-to-video'),
    generation_mode: z.enum(GENERATION_MODES, { error: `must be one of ${GENERATION_MODES.join(', ')}` }).optional()
      .describe('Omitted: video_urls → video_continuation, else image_end → first_last_frame, else first_frame'),
    prompt: truncatedText(5000).optional(),
    negative_prompt: truncatedText(500).optional(),
    image_start: mediaUrl.optional().describe('First frame: JPEG/PNG(no alpha)/BMP/WEBP, 240–8000 px, 1:8–8:1, ≤20 MB'),
    image_end: mediaUrl.optional().describe('Last frame: JPEG/PNG(no alpha)/BMP/WEBP, 240–8000 px, 1:8–8:1, ≤20 MB'),
    video_urls: oneUrlArray.optional().describe('Clip to continue: MP4/MOV, 2–10 s, 240–4096 px, ≤100 MB'),
    audio_urls: oneUrlArray.optional().describe('Driving audio: wav or mp3, 2–30 s, ≤15 MB'),
    quality,
    duration: intRange(2, 15).default(5).describe('Length of the video in seconds; for video_continuation the total, clip included'),
    seed,
    prompt_extend: promptExtend,
    callback_url: callbackUrl.optional(),
  })
  .meta({ id: 'Wan27ImageToVideoRequest' });

export function inferMode(body: { generation_mode?: Mode; video_urls?: unknown; image_end?: unknown }): Mode {
  if (body.generation_mode) return body.generation_mode;
  if (body.video_urls) return 'video_continuation';
  return body.image_end ? 'first_last_frame' : 'first_frame';
}

export default defineModel({
  id: 'wan2.7-image-to-video',
  owned_by: 'alibaba',
  family: 'wan',
  kind: 'i2v',
  schema,
  normalize(body) {
    const mode = inferMode(body);
    for (const [material, rule] of Object.entries(MATERIALS[mode]) as [Material, string][]) {
      const present = body[material] !== undefined;
      if (rule === 'required' && !present) throw invalidField(material, `is required in ${mode} mode`);
      if (rule === 'rejected' && present) throw invalidField(material, `is not accepted in ${mode} mode`);
    }
    const media: MediaNeed[] = [];
    if (body.image_start) media.push({ field: 'image_start', url: body.image_start, limits: WAN_IMAGE });
    if (body.image_end) media.push({ field: 'image_end', url: body.image_end, limits: WAN_IMAGE });
    if (body.video_urls) media.push({ field: 'video_urls[0]', url: body.video_urls[0], limits: WAN_CLIP });
    if (body.audio_urls) media.push({ field: 'audio_urls[0]', url: body.audio_urls[0], limits: WAN_AUDIO });
    return {
      ...sharedFields(body),
      params: {
        generation_mode: mode,
        prompt: body.prompt,
        negative_prompt: body.negative_prompt,
        duration: body.duration,
        prompt_extend: body.prompt_extend,
      },
      media,
    };
  },
  plan(request, media) {
    const duration = request.params.duration as number;
    const source: MediaInfo = request.params.generation_mode === 'video_continuation' ? media['video_urls[0]'] : media.image_start;
    if (request.params.generation_mode === 'video_continuation') {
      const clip = source.durationSec ?? 0;
      if (duration < clip - DURATION_TOLERANCE_SEC) {
        throw invalidField('duration', `${duration} s is shorter than the ${+clip.toFixed(2)} s clip in video_urls[0]; it is the total length, clip included, and must be at least ${wholeSeconds(clip)}`);
      }
    }
    const format = outputFormat(request.quality, nearestAspectRatio(source.width!, source.height!), WAN_FPS);
    return { output: { ...format, duration_sec: duration }, video_duration: duration, billed_seconds: duration };
  },
});

import { z } from 'zod';
import { aspectRatio, callbackUrl, intRange, mediaUrl, oneUrlArray, promptExtend, quality, requiredPrompt, seed, truncatedText } from '../fields.ts';
import { WAN_AUDIO } from '../media-limits.ts';
import { defineModel, sharedFields } from '../model-spec.ts';
import { outputFormat } from '../output-size.ts';

export const WAN_FPS = 30;

export const schema = z
  .object({
    model: z.literal('wan2.7-text-to-video'),
    prompt: requiredPrompt(5000).describe('What to generate; over 5000 code points is truncated. Multi-shot: "Shot 1 [0-3s] …"'),
    negative_prompt: truncatedText(500).optional(),
    audio_urls: oneUrlArray.optional().describe('Driving audio: wav or mp3, 2–30 s, ≤15 MB'),
    audio_url: mediaUrl.optional().describe('Alias of audio_urls[0]; audio_urls wins when both are given'),
    aspect_ratio: aspectRatio.default('16:9'),
    duration: intRange(2, 15).default(5).describe('Length of the video in seconds'),
    prompt_extend: promptExtend,
    quality,
    seed,
    callback_url: callbackUrl.optional(),
  })
  .meta({ id: 'Wan27TextToVideoRequest' });

export default defineModel({
  id: 'wan2.7-text-to-video',
  owned_by: 'alibaba',
  family: 'wan',
  kind: 't2v',
  schema,
  normalize(body) {
    const audio = body.audio_urls?.[0] ?? body.audio_url;
    return {
      ...sharedFields(body),
      params: {
        prompt: body.prompt,
        negative_prompt: body.negative_prompt,
        aspect_ratio: body.aspect_ratio,
        duration: body.duration,
        prompt_extend: body.prompt_extend,
      },
      media: audio ? [{ field: body.audio_urls ? 'audio_urls[0]' : 'audio_url', url: audio, limits: WAN_AUDIO }] : [],
    };
  },
  plan(request) {
    const duration = request.params.duration as number;
    const format = outputFormat(request.quality, request.params.aspect_ratio as never, WAN_FPS);
    return { output: { ...format, duration_sec: duration }, video_duration: duration, billed_seconds: duration };
  },
});

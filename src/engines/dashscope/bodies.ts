import type { UpstreamJob } from '../upstream.ts';
import { audio, input, referenceImages, sourceVideo } from '../job-inputs.ts';
import { definedEntries } from '../../util/objects.ts';

import { CATALOG_BODIES, type DashScopeBody } from './catalog-bodies.ts';

type Media = { type: string; url: string };
export type { DashScopeBody };

/**
 * The create body for each model (UPSTREAMS.md §1.5, §3.1): the 2.7 / HappyHorse media-array
 * protocol, with `resolution` and `watermark: false` always explicit because DashScope's defaults
 * (1080P, HappyHorse watermarked) differ from the contract's.
 */
export function dashscopeBody(job: UpstreamJob): DashScopeBody {
  const p = job.params;
  const resolution = job.quality === '1080p' ? '1080P' : '720P';
  const common = { resolution, watermark: false, seed: job.seed };
  const text = { prompt: p.prompt, negative_prompt: p.negative_prompt };
  switch (job.model) {
    case 'wan2.7-text-to-video':
      return body(job, { ...text, audio_url: audio(job)?.url }, { ...common, ratio: p.aspect_ratio, duration: p.duration, prompt_extend: p.prompt_extend });
    case 'wan2.7-image-to-video':
      return body(job, { ...text, media: imageToVideoMedia(job) }, { ...common, duration: p.duration, prompt_extend: p.prompt_extend });
    case 'wan2.7-video-edit':
      return body(job, { ...text, media: editMedia(job) }, {
        // The probed length, never 0 ("as the input"): the upstream must not measure the clip itself (CONTRACT §8.3).
        ...common, ratio: p.aspect_ratio, duration: p.duration ?? Math.round(job.output.durationSec), audio_setting: p.keep_original_sound ? 'origin' : 'auto', prompt_extend: p.prompt_extend,
      });
    case 'happyhorse-1.0-video-edit':
      return body(job, { prompt: p.prompt, media: editMedia(job) }, { ...common, audio_setting: p.keep_original_sound ? 'origin' : 'auto' });
    default: {
      const build = CATALOG_BODIES[job.model];
      if (!build) throw new Error(`the dashscope engine has no body for ${job.model}`);
      return build(job);
    }
  }
}

function body(job: UpstreamJob, inputs: Record<string, unknown>, parameters: Record<string, unknown>): DashScopeBody {
  return { model: job.upstreamModel, input: definedEntries(inputs), parameters: definedEntries(parameters) };
}

/** first_frame / last_frame / driving_audio / first_clip, from the mode's materials. */
function imageToVideoMedia(job: UpstreamJob): Media[] {
  const media: Media[] = [];
  const add = (type: string, url: string | undefined) => url && media.push({ type, url });
  add('first_frame', input(job, 'image_start')?.url);
  add('first_clip', input(job, 'video_urls[0]')?.url);
  add('last_frame', input(job, 'image_end')?.url);
  add('driving_audio', input(job, 'audio_urls[0]')?.url);
  return media;
}

/** One `video` and the reference images. */
function editMedia(job: UpstreamJob): Media[] {
  return [{ type: 'video', url: sourceVideo(job)!.url }, ...referenceImages(job).map((i) => ({ type: 'reference_image', url: i.url }))];
}

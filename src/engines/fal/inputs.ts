import { input, referenceImages, sourceVideo, audio } from '../job-inputs.ts';
import type { UpstreamJob } from '../upstream.ts';
import { definedEntries } from '../../util/objects.ts';
import { catalogFalInput } from './catalog-inputs.ts';

/** fal's model input for each model (UPSTREAMS.md §5.3): integer duration, lower-case resolution. */
export function falInput(job: UpstreamJob): Record<string, unknown> {
  const p = job.params;
  const resolution = job.quality;
  switch (job.model) {
    case 'wan2.7-text-to-video':
      return definedEntries({
        prompt: p.prompt, negative_prompt: p.negative_prompt, audio_url: audio(job)?.url, resolution, aspect_ratio: p.aspect_ratio,
        duration: p.duration, enable_prompt_expansion: p.prompt_extend, seed: job.seed,
      });
    case 'wan2.7-image-to-video':
      return definedEntries({
        prompt: p.prompt, negative_prompt: p.negative_prompt, image_url: input(job, 'image_start')?.url, end_image_url: input(job, 'image_end')?.url,
        video_url: input(job, 'video_urls[0]')?.url, audio_url: input(job, 'audio_urls[0]')?.url, resolution, duration: p.duration,
        enable_prompt_expansion: p.prompt_extend, seed: job.seed,
      });
    case 'happyhorse-1.0-video-edit': {
      const references = referenceImages(job).map((i) => i.url);
      return definedEntries({
        prompt: p.prompt, video_url: sourceVideo(job)!.url, reference_image_urls: references.length ? references : undefined, resolution,
        audio_setting: p.keep_original_sound ? 'origin' : 'auto', seed: job.seed,
      });
    }
    default: {
      const catalog = catalogFalInput(job);
      if (!catalog) throw new Error(`the fal engine has no input for ${job.model}`);
      return catalog;
    }
  }
}

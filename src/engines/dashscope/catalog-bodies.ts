import { TaskFailure } from '../../contract/errors.ts';
import type { RenderInput } from '../engine.ts';
import { input, listedInputs, referenceImages } from '../job-inputs.ts';
import { SubmitError, type UpstreamJob } from '../upstream.ts';
import { definedEntries } from '../../util/objects.ts';

export type DashScopeBody = { model: string; input: Record<string, unknown>; parameters: Record<string, unknown> };

/**
 * Bodies for the wan and happyhorse catalog models beyond the seed four (UPSTREAMS-2.md §2):
 * the flat 2.5 / 2.6 protocol (named media fields, `size` or `resolution`) and the media-array
 * protocol of 2.7 references, 3.0 and HappyHorse. Where a wire fact is unknown, the request is
 * refused with a clear reason rather than sent with a guess.
 */

type Params = Record<string, unknown>;
type Media = { type: string; url: string };

/** A parameter this engine cannot send: the task fails, naming it, instead of a guess going out. */
export function unsupported(model: string, what: string): SubmitError {
  return new SubmitError('rejected', new TaskFailure('invalid_parameters', `the dashscope engine cannot send ${what} for ${model}: ${UNKNOWN_WIRE}`));
}
const UNKNOWN_WIRE = 'Model Studio does not document how; use another channel (evolink) for it';

// Flat-protocol sizes by tier and ratio (UPSTREAMS-2.md §2.2.1): `size` must be one of these exactly.
const FLAT_SIZES: Record<string, Record<string, string>> = {
  '480p': { '16:9': '832*480', '9:16': '480*832', '1:1': '624*624' },
  '720p': { '16:9': '1280*720', '9:16': '720*1280', '1:1': '960*960', '4:3': '1088*832', '3:4': '832*1088' },
  '1080p': { '16:9': '1920*1080', '9:16': '1080*1920', '1:1': '1440*1440', '4:3': '1632*1248', '3:4': '1248*1632' },
};

const tier = (quality: string) => quality.toUpperCase(); // 720p → 720P

function flatSize(job: UpstreamJob, p: Params): string {
  const size = FLAT_SIZES[job.quality]?.[String(p.aspect_ratio ?? '16:9')];
  if (!size) throw unsupported(job.model, `aspect_ratio ${String(p.aspect_ratio)} at ${job.quality}`);
  return size;
}

const shotType = (p: Params) => (p.model_params as Params | undefined)?.shot_type;

/** wan2.5 / wan2.6 text-to-video: `size`, driving `audio_url`, 2.6's `shot_type`. */
function flatTextToVideo(job: UpstreamJob): DashScopeBody {
  const p = job.params;
  return body(job, { prompt: p.prompt, audio_url: input(job, 'audio_url')?.url }, {
    size: flatSize(job, p), duration: p.duration, prompt_extend: p.prompt_extend, shot_type: shotType(p), watermark: false, seed: p.seed,
  });
}

/** wan2.5 / wan2.6 image-to-video: `img_url` and `resolution` (the image sets the ratio); flash may be silent. */
function flatImageToVideo(job: UpstreamJob): DashScopeBody {
  const p = job.params;
  return body(job, { prompt: p.prompt, img_url: input(job, 'image_urls[0]')?.url, audio_url: input(job, 'audio_url')?.url }, {
    resolution: tier(job.quality), duration: p.duration, prompt_extend: p.prompt_extend, shot_type: shotType(p),
    audio: typeof p.generate_audio === 'boolean' ? p.generate_audio : undefined, watermark: false, seed: p.seed,
  });
}

/** wan2.6 references: `reference_urls` (clips, in order: character1, character2 …), `size`; flash may be silent. */
function flatReferences(job: UpstreamJob): DashScopeBody {
  const p = job.params;
  return body(job, { prompt: p.prompt, reference_urls: listedInputs(job, 'video_urls').map((i) => i.url) }, {
    size: flatSize(job, p), duration: p.duration, shot_type: shotType(p), audio: typeof p.generate_audio === 'boolean' ? p.generate_audio : undefined,
    watermark: false, seed: p.seed,
  });
}

/** wan2.7 references: `reference_image` and `reference_video` items, an optional `first_frame`; voices are not sent (undocumented). */
function wan27References(job: UpstreamJob): DashScopeBody {
  const p = job.params;
  const voices = listedInputs(job, 'audio_urls').length > 0 || Object.keys(((p.model_params as Params | undefined)?.voice_bindings ?? {}) as Params).length > 0;
  if (voices) throw unsupported(job.model, 'voices (audio_urls, voice_bindings)');
  const media: Media[] = [
    ...mediaOf('first_frame', input(job, 'image_start')),
    ...listedInputs(job, 'image_urls').map((i) => ({ type: 'reference_image', url: i.url })),
    ...listedInputs(job, 'video_urls').map((i) => ({ type: 'reference_video', url: i.url })),
  ];
  return body(job, { prompt: p.prompt, negative_prompt: p.negative_prompt, media }, {
    resolution: tier(job.quality), ratio: input(job, 'image_start') ? undefined : p.aspect_ratio, duration: p.duration, prompt_extend: p.prompt_extend,
    watermark: false, seed: p.seed,
  });
}

/** wan3.0-video, one model for every mode: frames, or references (images, clips, audio, a file or a link). */
function wan30(job: UpstreamJob): DashScopeBody {
  const p = job.params;
  // Unconfirmed wire names (UPSTREAMS-2.md §2.3, §5.4): the smart length and the audio switch.
  if (p.duration === -1) throw unsupported(job.model, 'duration -1 (the model picks the length)');
  if (p.generate_audio === false) throw unsupported(job.model, 'generate_audio false');
  const params = (p.model_params ?? {}) as Params;
  const media: Media[] = [
    ...mediaOf('first_frame', input(job, 'image_start')),
    ...mediaOf('last_frame', input(job, 'image_end')),
    ...listedInputs(job, 'image_urls').map((i) => ({ type: 'reference_image', url: i.url })),
    ...listedInputs(job, 'video_urls').map((i) => ({ type: 'reference_video', url: i.url })),
    ...listedInputs(job, 'audio_urls').map((i) => ({ type: 'reference_audio', url: i.url })),
    ...(typeof params.file_url === 'string' ? [{ type: 'file', url: params.file_url }] : []),
    ...(typeof params.link_url === 'string' ? [{ type: 'link', url: params.link_url }] : []),
  ];
  // "adaptive" is the model's own default: no ratio is sent for it.
  const ratio = p.aspect_ratio === 'adaptive' ? undefined : p.aspect_ratio;
  return body(job, { prompt: p.prompt, media: media.length ? media : undefined }, {
    resolution: tier(job.quality), ratio, duration: p.duration, watermark: false, seed: p.seed,
  });
}

// The five ratios Model Studio documents for HappyHorse (UPSTREAMS.md §1.5.6); 4:5, 5:4, 9:21, 21:9 are resellers' and unconfirmed.
const HAPPYHORSE_RATIOS = ['16:9', '9:16', '1:1', '4:3', '3:4'];

/** HappyHorse 1.0 / 1.1 text, image and references: `first_frame` or `reference_image`s, watermark off (its default is on). */
function happyhorse(job: UpstreamJob): DashScopeBody {
  const p = job.params;
  if (p.aspect_ratio !== undefined && !HAPPYHORSE_RATIOS.includes(String(p.aspect_ratio))) throw unsupported(job.model, `aspect_ratio ${String(p.aspect_ratio)}`);
  const first = job.model.includes('image-to-video') ? input(job, 'image_urls[0]') : undefined;
  const media: Media[] = first
    ? [{ type: 'first_frame', url: first.url }]
    : referenceImages(job).map((i) => ({ type: 'reference_image', url: i.url }));
  return body(job, { prompt: p.prompt, media: media.length ? media : undefined }, {
    resolution: tier(job.quality), ratio: first ? undefined : p.aspect_ratio, duration: p.duration, watermark: false, seed: p.seed,
  });
}

/** The body builder of each catalog model the engine serves (ENGINE_CATALOG.dashscope). */
export const CATALOG_BODIES: Readonly<Record<string, (job: UpstreamJob) => DashScopeBody>> = {
  'wan2.5-text-to-video': flatTextToVideo,
  'wan2.6-text-to-video': flatTextToVideo,
  'wan2.5-image-to-video': flatImageToVideo,
  'wan2.6-image-to-video': flatImageToVideo,
  'wan2.6-image-to-video-flash': flatImageToVideo,
  'wan2.6-reference-video': flatReferences,
  'wan2.6-reference-video-flash': flatReferences,
  'wan2.7-reference-video': wan27References,
  'wan3.0-text-to-video': wan30,
  'wan3.0-image-to-video': wan30,
  'wan3.0-reference-video': wan30,
  'happyhorse-1.0-text-to-video': happyhorse,
  'happyhorse-1.0-image-to-video': happyhorse,
  'happyhorse-1.0-reference-to-video': happyhorse,
  'happyhorse-1.1-text-to-video': happyhorse,
  'happyhorse-1.1-image-to-video': happyhorse,
  'happyhorse-1.1-reference-to-video': happyhorse,
};

function body(job: UpstreamJob, inputs: Params, parameters: Params): DashScopeBody {
  return { model: job.upstreamModel, input: definedEntries(inputs), parameters: definedEntries(parameters) };
}

function mediaOf(type: string, medium: RenderInput | undefined): Media[] {
  return medium ? [{ type, url: medium.url }] : [];
}

import { TaskFailure } from '../../contract/errors.ts';
import { definedEntries } from '../../util/objects.ts';
import { input, listedInputs } from '../job-inputs.ts';
import { SubmitError, type UpstreamJob } from '../upstream.ts';

/**
 * The catalog models fal hosts (UPSTREAMS-2.md §3): each model's endpoint (a channel may map its
 * own; `{tier}` and `{mode}` are filled from the request) and its input, field by field. Fields
 * fal has no name for are sent only at their default; any other value fails the task, named.
 */

type Params = Record<string, unknown>;
type Mapper = (job: UpstreamJob, p: Params) => Params;

/** A value the model was asked for that fal has no field for: the task fails, naming it. */
function unsupported(job: UpstreamJob, what: string): SubmitError {
  return new SubmitError('rejected', new TaskFailure('invalid_parameters', `the fal engine cannot send ${what} for ${job.model}: fal's endpoint has no such field; use another channel (evolink) for it`));
}

const urls = (job: UpstreamJob, field: string) => {
  const all = listedInputs(job, field).map((i) => i.url);
  return all.length ? all : undefined;
};

/** Refuses the fields fal cannot take unless they hold their default. */
function onlyDefaults(job: UpstreamJob, p: Params, defaults: Params): void {
  for (const [field, fallback] of Object.entries(defaults)) {
    if (p[field] !== undefined && p[field] !== fallback) throw unsupported(job, `${field} ${JSON.stringify(p[field])}`);
  }
}

const imageCount = (job: UpstreamJob) => listedInputs(job, 'image_urls').length;

/** The endpoint for this request: the channel's id with `{tier}` (Kling, Hailuo) and `{mode}` filled in. */
export function falEndpoint(job: UpstreamJob): string {
  return job.upstreamModel.replaceAll('{tier}', tierOf(job)).replaceAll('{mode}', modeOf(job));
}

function tierOf(job: UpstreamJob): string {
  if (job.model.startsWith('MiniMax')) return job.quality === '1080p' ? 'pro' : 'standard';
  return ({ '720p': 'standard', '1080p': 'pro', '4k': '4k' } as Record<string, string>)[job.quality] ?? 'standard';
}

function modeOf(job: UpstreamJob): string {
  const images = imageCount(job);
  if (job.model.startsWith('veo')) {
    const type = job.params.generation_type ?? (images === 0 ? 'TEXT' : 'FIRST&LAST');
    if (type === 'REFERENCE') return '/reference-to-video';
    if (type === 'FIRST&LAST') return images === 2 ? '/first-last-frame-to-video' : '/image-to-video';
    return '';
  }
  if (job.model.startsWith('grok')) return images === 0 ? 'text-to-video' : images === 1 ? 'image-to-video' : 'reference-to-video';
  return images === 0 ? 'text-to-video' : 'image-to-video';
}

const wan25: Mapper = (job, p) => ({
  prompt: p.prompt, audio_url: input(job, 'audio_url')?.url, duration: String(p.duration), resolution: job.quality, aspect_ratio: p.aspect_ratio,
  enable_prompt_expansion: p.prompt_extend, image_url: input(job, 'image_urls[0]')?.url,
});

const wan26: Mapper = (job, p) => {
  const references = job.model.includes('reference');
  const allowed = references ? [5, 10] : [5, 10, 15];
  if (!allowed.includes(Number(p.duration))) throw unsupported(job, `duration ${String(p.duration)} (fal takes ${allowed.join(', ')})`);
  return {
    prompt: p.prompt, duration: String(p.duration), resolution: job.quality, multi_shots: (p.model_params as Params | undefined)?.shot_type === 'multi' ? true : undefined,
    enable_prompt_expansion: p.prompt_extend, audio_url: input(job, 'audio_url')?.url, image_url: input(job, 'image_urls[0]')?.url,
    video_urls: urls(job, 'video_urls'), aspect_ratio: p.aspect_ratio, generate_audio: p.generate_audio,
  };
};

const wan27Edit: Mapper = (job, p) => {
  const references = listedInputs(job, 'image_urls');
  if (references.length > 1) throw unsupported(job, `${references.length} reference images (fal takes one)`);
  return {
    prompt: p.prompt, video_url: input(job, 'video_urls[0]')?.url, reference_image_url: references[0]?.url, resolution: job.quality, aspect_ratio: p.aspect_ratio,
    duration: p.duration, audio_setting: p.keep_original_sound ? 'origin' : 'auto', seed: job.seed,
  };
};

const happyhorse: Mapper = (job, p) => ({
  prompt: p.prompt, duration: p.duration, resolution: job.quality, aspect_ratio: p.aspect_ratio, seed: p.seed,
  image_url: job.model.includes('image-to-video') ? input(job, 'image_urls[0]')?.url : undefined,
  image_urls: job.model.includes('reference') ? urls(job, 'image_urls') : undefined,
});

/** Seedance: string durations; "adaptive" is fal's "auto"; 2.0's relaxed moderation has no fal field. */
const seedance: Mapper = (job, p) => {
  onlyDefaults(job, p, { content_filter: true, output_format: 'mp4' });
  if ((p.model_params as Params | undefined)?.web_search === true) throw unsupported(job, 'model_params.web_search');
  if (p.aspect_ratio === 'keep_ratio') throw unsupported(job, 'aspect_ratio "keep_ratio"');
  const reference = job.model.includes('reference');
  const images = listedInputs(job, 'image_urls');
  return {
    prompt: p.prompt, duration: String(p.duration), resolution: job.quality, aspect_ratio: p.aspect_ratio === 'adaptive' ? 'auto' : p.aspect_ratio,
    generate_audio: p.generate_audio, seed: p.seed,
    image_url: reference ? undefined : images[0]?.url, end_image_url: reference ? undefined : images[1]?.url,
    image_urls: reference ? urls(job, 'image_urls') : undefined, video_urls: reference ? urls(job, 'video_urls') : undefined, audio_urls: reference ? urls(job, 'audio_urls') : undefined,
  };
};

/** Kling: string durations, sound as generate_audio, multi-shot prompts; element ids have no fal form. */
const kling: Mapper = (job, p) => {
  const params = (p.model_params ?? {}) as Params;
  if (Array.isArray(params.element_list) && params.element_list.length > 0) throw unsupported(job, 'model_params.element_list');
  onlyDefaults(job, params, { watermark_info: undefined });
  const shots = Array.isArray(params.multi_prompt) && params.multi_shot === true
    ? (params.multi_prompt as Params[]).map((shot) => ({ prompt: shot.prompt, duration: String(shot.duration) }))
    : undefined;
  const shotType = params.multi_shot === true ? ({ customize: 'customize', intelligence: 'intelligent' } as Params)[String(params.shot_type)] : undefined;
  const o1Images = job.model === 'kling-o1-image-to-video' ? listedInputs(job, 'image_urls') : [];
  // fal's image-to-video endpoints take the ratio from the image, and o3's takes no reference images.
  if (job.model.includes('image-to-video') && p.aspect_ratio !== undefined) throw unsupported(job, `aspect_ratio ${String(p.aspect_ratio)}`);
  if (job.model === 'kling-o3-image-to-video' && imageCount(job) > 0) throw unsupported(job, 'image_urls (reference images)');
  const v3 = job.model.startsWith('kling-v3');
  const edit = job.model.includes('edit');
  return {
    prompt: shots ? undefined : p.prompt, multi_prompt: shots, shot_type: shotType, negative_prompt: p.negative_prompt,
    duration: p.duration === undefined ? undefined : String(p.duration), aspect_ratio: p.aspect_ratio,
    generate_audio: p.sound === undefined ? undefined : p.sound === 'on',
    image_url: v3 ? undefined : input(job, 'image_start')?.url,
    start_image_url: v3 ? input(job, 'image_start')?.url : o1Images[0]?.url,
    end_image_url: input(job, 'image_end')?.url ?? o1Images[1]?.url,
    video_url: input(job, 'video_url')?.url ?? input(job, 'video_urls[0]')?.url,
    image_urls: edit ? urls(job, 'image_urls') : undefined,
    keep_audio: edit ? p.keep_original_sound : undefined,
  };
};

const hailuo: Mapper = (job, p) => {
  const images = listedInputs(job, 'image_urls');
  return {
    // The pro tier (1080p) makes 6 s and takes no duration.
    prompt: p.prompt, prompt_optimizer: (p.model_params as Params | undefined)?.prompt_optimizer, duration: job.quality === '1080p' ? undefined : String(p.duration),
    resolution: images.length > 0 && job.quality !== '1080p' ? job.quality.toUpperCase() : undefined, image_url: images[0]?.url, end_image_url: images[1]?.url,
  };
};

/** Veo 3.1: "8s"-style durations; the mode (text, frames, references) is the endpoint. */
const veo: Mapper = (job, p) => {
  onlyDefaults(job, p, { n: 1, person_generation: 'allow_adult', resize_mode: 'pad', enhance_prompt: true });
  const images = listedInputs(job, 'image_urls');
  const mode = modeOf(job);
  const seconds = job.model.includes('beta') || mode === '/reference-to-video' ? 8 : Number(p.duration);
  return {
    prompt: p.prompt, duration: `${seconds}s`, resolution: job.quality, aspect_ratio: p.aspect_ratio === 'auto' && mode === '' ? undefined : p.aspect_ratio,
    generate_audio: p.generate_audio, negative_prompt: p.negative_prompt, seed: p.seed,
    image_url: mode === '/image-to-video' ? images[0]?.url : undefined,
    first_frame_url: mode === '/first-last-frame-to-video' ? images[0]?.url : undefined,
    last_frame_url: mode === '/first-last-frame-to-video' ? images[1]?.url : undefined,
    image_urls: mode === '/reference-to-video' ? images.map((i) => i.url) : undefined,
  };
};

const grok: Mapper = (job, p) => {
  onlyDefaults(job, p, { mode: 'normal' });
  const images = listedInputs(job, 'image_urls');
  return {
    prompt: p.prompt, duration: p.duration, resolution: job.quality, aspect_ratio: images.length === 1 ? undefined : p.aspect_ratio,
    image_url: images.length === 1 ? images[0].url : undefined, reference_image_urls: images.length > 1 ? images.map((i) => i.url) : undefined,
  };
};

const MAPPERS: [string, Mapper][] = [
  ['wan2.5-', wan25], ['wan2.6-', wan26], ['wan2.7-video-edit', wan27Edit], ['happyhorse-', happyhorse], ['seedance-', seedance], ['doubao-seedance-', seedance],
  ['kling-', kling], ['MiniMax-Hailuo-', hailuo], ['veo', veo], ['grok-', grok],
];

/** fal's input for a catalog model, or undefined for a model fal does not host. */
export function catalogFalInput(job: UpstreamJob): Params | undefined {
  const mapper = MAPPERS.find(([prefix]) => job.model.startsWith(prefix))?.[1];
  return mapper ? definedEntries(mapper(job, job.params)) : undefined;
}

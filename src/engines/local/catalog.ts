import type { CatalogPreview } from '../../contract/catalog/spec.ts';
import type { RenderInput, RenderJob } from '../engine.ts';
import {
  audioInput, caption, captionWidth, driftOver, type FfmpegPlan, fillFrame, fitAudio, holdLastFrame, inputCount, label, labelText, type PreviewOptions,
  renderCommand, silenceInput, uniformVideo, wrapText,
} from './graph.ts';
import { continuationPlan, stillsPlan } from './image-to-video.ts';
import { seededRandom } from './look.ts';
import { textToVideoPlan } from './text-to-video.ts';
import { videoEditPlan } from './video-edit.ts';

/**
 * Previews of the catalog models (CONTRACT §9.5), one per kind of input: what each model would
 * make from what it was given, with its inputs visible where they belong.
 */
export function catalogPlan(job: RenderJob, preview: CatalogPreview): FfmpegPlan {
  const options: PreviewOptions = { prompt: previewPrompt(job), silent: !preview.sound(job.params) };
  switch (preview.kind) {
    case 'text':
      return textToVideoPlan(job, options);
    case 'image':
      return framesPlan(job, options);
    case 'references':
      return referencesPlan(job, options);
    case 'edit':
      return videoEditPlan(job, editSoundOf(job, options));
    case 'extend':
      return continuationPlan(job, 0.5, options);
    case 'motion':
      return pictureInPicturePlan(job, inputsOf(job, 'image')[0], sourceVideo(job)!, options);
    case 'avatar':
      return speakingPlan(job, inputsOf(job, 'image')[0], options);
    case 'lipsync':
      return speakingPlan(job, sourceVideo(job)!, options);
    case 'upscale':
      return upscalePlan(job);
    case 'element':
      return elementPlan(job);
  }
}

/** The prompt shown: the request's, or Kling's multi-shot prompts as timed shots. */
function previewPrompt(job: RenderJob): string {
  const shots = (job.params.model_params as { multi_prompt?: { prompt?: string; duration?: string }[] } | undefined)?.multi_prompt;
  if (!Array.isArray(shots) || shots.length === 0) return String(job.params.prompt ?? '');
  let start = 0;
  return shots.map((shot, i) => {
    const end = start + Number(shot.duration ?? 1);
    const text = `Shot ${i + 1} [${start}-${end}s] ${shot.prompt ?? ''}`;
    start = end;
    return text;
  }).join(' ');
}

/** The inputs of one kind in request order: image_start, image_urls[0…], image_end, then the rest. */
function inputsOf(job: RenderJob, kind: RenderInput['kind']): RenderInput[] {
  const rank = (field: string) => (field === 'image_start' ? -2 : field === 'image_end' ? 1e6 : Number(/\[(\d+)\]/.exec(field)?.[1] ?? 1e5));
  return Object.values(job.inputs).filter((input) => input.kind === kind).sort((a, b) => rank(a.field) - rank(b.field) || a.field.localeCompare(b.field));
}

function sourceVideo(job: RenderJob): RenderInput | undefined {
  return job.inputs['video_urls[0]'] ?? job.inputs.video_url ?? inputsOf(job, 'video')[0];
}

/** Frames: a first frame (and a last); more pictures than two are references; none is text-to-video. */
function framesPlan(job: RenderJob, options: PreviewOptions): FfmpegPlan {
  const { image_start: start, image_end: end } = job.inputs;
  const images = inputsOf(job, 'image').filter((input) => input.field.startsWith('image_urls['));
  if (start) return images.length > 0 ? referencesPlan(job, options) : stillsPlan(job, start, end, options);
  if (end) return stillsPlan(job, end, undefined, options);
  const referenceMode = job.params.generation_type === 'REFERENCE' || (images.length === 2 && job.model.startsWith('grok'));
  if (images.length === 0) return textToVideoPlan(job, options);
  if (images.length > 2 || referenceMode) return referencesPlan(job, options);
  return stillsPlan(job, images[0], images[1], options);
}

/** References: the text preview, with every reference (pictures and clips) in a strip along the bottom. */
function referencesPlan(job: RenderJob, options: PreviewOptions): FfmpegPlan {
  const base = textToVideoPlan(job, options);
  const references = [...inputsOf(job, 'image'), ...inputsOf(job, 'video')].slice(0, 8);
  if (references.length === 0) return base;
  const command = base.commands.at(-1)!;
  const graphAt = command.indexOf('-filter_complex') + 1;
  const inputs = command.slice(0, graphAt - 1);
  const graph = command[graphAt].split(';');
  const { height, durationSec } = job.output;
  const thumb = Math.round(height / 6);
  const first = inputCount(inputs);
  references.forEach((reference, i) => {
    if (reference.kind === 'image') inputs.push('-loop', '1', '-t', String(durationSec), '-i', reference.path);
    else inputs.push('-stream_loop', '-1', '-t', String(durationSec), '-i', reference.path);
    graph.push(`[${first + i}:v]scale=-2:${thumb},setsar=1,fps=${job.output.fps},format=yuv420p,pad=iw+6:ih+6:3:3:white[ref${i}]`);
  });
  const strip = references.map((_, i) => `[ref${i}]`).join('');
  graph.push(references.length > 1 ? `${strip}hstack=inputs=${references.length}:shortest=1[strip]` : `${strip}null[strip]`);
  const last = graph.findIndex((step) => step.endsWith('[video]'));
  graph[last] = graph[last].replace(/\[video\]$/, '[scene]');
  graph.push(`[scene][strip]overlay=x=(W-w)/2:y=${Math.round(thumb / 4)}:shortest=1[video]`);
  return { files: base.files, commands: [...base.commands.slice(0, -1), [...inputs, '-filter_complex', graph.join(';'), ...command.slice(graphAt + 1)]] };
}

/** Edits keep the source's sound when asked, else make new sound or none by the model's rule. */
function editSoundOf(job: RenderJob, options: PreviewOptions): 'source' | 'new' | 'silence' {
  const params = job.params;
  const keep = params.keep_original_sound ?? (params.model_params as { keep_sound?: boolean } | undefined)?.keep_sound;
  if (keep === true) return 'source';
  return options.silent ? 'silence' : 'new';
}

/** Motion control: the character's picture, moving with the driving clip shown in a corner. */
function pictureInPicturePlan(job: RenderJob, picture: RenderInput, driving: RenderInput, options: PreviewOptions): FfmpegPlan {
  const { width, height, fps, durationSec } = job.output;
  const frames = Math.round(durationSec * fps);
  const corner = Math.round(height / 3.5);
  const inputs = ['-i', picture.path, '-i', driving.path];
  const graph = [
    `[0:v]${driftOver(width, height, fps, frames, seededRandom(job.seed, 'motion'))},${uniformVideo(fps)}[still]`,
    `[1:v]scale=-2:${corner},setsar=1,${uniformVideo(fps)},pad=iw+6:ih+6:3:3:white[driver]`,
    `[still][driver]overlay=x=W-w-${Math.round(corner / 8)}:y=H-h-${Math.round(corner / 8)}:eof_action=repeat,${label('label.txt', height)},${holdLastFrame(fps)}[video]`,
  ];
  const keepSound = !options.silent && driving.hasAudio;
  if (keepSound) graph.push(`[1:a]${fitAudio(durationSec)}[audio]`);
  else {
    graph.push(`[${inputCount(inputs)}:a]${fitAudio(durationSec)}[audio]`);
    inputs.push(...silenceInput(durationSec));
  }
  return { files: { 'label.txt': labelText(job, ' · motion from the clip') }, commands: [renderCommand(job, inputs, graph)] };
}

/** Talking avatar and lip-sync: the face (a picture or the clip) with the new speech, its waveform drawn where the mouth would move. */
function speakingPlan(job: RenderJob, face: RenderInput, options: PreviewOptions): FfmpegPlan {
  const { width, height, fps, durationSec } = job.output;
  const frames = Math.round(durationSec * fps);
  const speech = job.inputs.audio_url;
  const inputs = face.kind === 'image' ? ['-i', face.path] : ['-stream_loop', '-1', '-i', face.path];
  const look = face.kind === 'image' ? driftOver(width, height, fps, frames, seededRandom(job.seed, 'avatar')) : fillFrame(width, height);
  const speechIndex = inputCount(inputs);
  inputs.push(...(speech ? ['-i', speech.path] : audioInput(job, durationSec, options.silent)));
  const wave = `${Math.round(width / 3)}x${Math.round(height / 8)}`;
  const graph = [
    `[0:v]${look},${uniformVideo(fps)},trim=end_frame=${frames},setpts=PTS-STARTPTS[face]`,
    `[${speechIndex}:a]${fitAudio(durationSec)},asplit=2[audio][listen]`,
    `[listen]showwaves=s=${wave}:mode=cline:colors=white:r=${fps},format=yuva420p[wave]`,
    `[face][wave]overlay=x=(W-w)/2:y=H-h-${Math.round(height / 12)}:eof_action=repeat,${label('label.txt', height)},${holdLastFrame(fps)}[video]`,
  ];
  return { files: { 'label.txt': labelText(job, ' · speaking the audio') }, commands: [renderCommand(job, inputs, graph)] };
}

/** Upscale: the clip scaled to the output size with a sharp filter, its own sound kept. */
function upscalePlan(job: RenderJob): FfmpegPlan {
  const { width, height, fps, durationSec } = job.output;
  const source = sourceVideo(job)!;
  const inputs = ['-i', source.path];
  const graph = [`[0:v]scale=${width}:${height}:flags=lanczos,setsar=1,${uniformVideo(fps)},${label('label.txt', height)}[video]`];
  if (source.hasAudio) graph.push(`[0:a]${fitAudio(durationSec)}[audio]`);
  else {
    graph.push(`[1:a]${fitAudio(durationSec)}[audio]`);
    inputs.push(...silenceInput(durationSec));
  }
  const factor = (job.params.model_params as { upscale_factor?: string } | undefined)?.upscale_factor ?? '2';
  return { files: { 'label.txt': labelText(job, ` · upscale ×${factor}`) }, commands: [renderCommand(job, inputs, graph)] };
}

/** A Kling element: a short card of its frontal picture (or its reference clip) with its name. */
function elementPlan(job: RenderJob): FfmpegPlan {
  const { width, height, fps, durationSec } = job.output;
  const face = job.inputs['model_params.element_image_list.frontal_image'] ?? inputsOf(job, 'video')[0];
  const params = job.params.model_params as { element_name?: string; element_description?: string };
  const frames = Math.round(durationSec * fps);
  const inputs = ['-i', face.path];
  const look = face.kind === 'image' ? driftOver(width, height, fps, frames, seededRandom(job.seed, 'element')) : fillFrame(width, height);
  const graph = [
    `[0:v]${look},${uniformVideo(fps)},trim=end_frame=${frames},setpts=PTS-STARTPTS,${caption('prompt.txt', height, 'gte(t,1)')},${label('label.txt', height, 'gte(t,1)')},${holdLastFrame(fps)}[video]`,
    `[1:a]${fitAudio(durationSec)}[audio]`,
  ];
  inputs.push(...silenceInput(durationSec));
  const text = `${params.element_name ?? ''}: ${params.element_description ?? ''}`;
  return { files: { 'label.txt': labelText(job, ' · element'), 'prompt.txt': wrapText(text, captionWidth(width, height)) }, commands: [renderCommand(job, inputs, graph)] };
}

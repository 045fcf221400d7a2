import type { RenderInput, RenderJob } from '../engine.ts';
import {
  audioInput, caption, captionWidth, inputCount, driftOver, renderCommand, type FfmpegPlan, fillFrame, fitAudio, holdLastFrame, label, labelText, type PreviewOptions,
  segmentSeconds, silenceInput, soundtrackInput, uniformVideo, wrapText,
} from './graph.ts';
import { seededRandom, soundtrackExpression } from './look.ts';

export const LAST_FRAME_FILE = 'clip-last-frame.png';
// Prompt text and label appear after the opening, so the first frame is the input's own.
const AFTER_OPENING = 'gte(t,1)';

/** Image-to-video in its three modes (CONTRACT §2.3). */
export function imageToVideoPlan(job: RenderJob): FfmpegPlan {
  const mode = job.params.generation_mode;
  if (mode === 'video_continuation') return continuationPlan(job);
  return stillsPlan(job, job.inputs.image_start, job.inputs.image_end);
}

/** first_frame: drift over the image; first_last_frame: then dissolve into the last image. */
export function stillsPlan(job: RenderJob, first: RenderInput, last: RenderInput | undefined, options: PreviewOptions = {}): FfmpegPlan {
  const { width, height, fps, durationSec } = job.output;
  const random = seededRandom(job.seed, 'i2v');
  const frames = Math.round(durationSec * fps);
  const inputs = ['-i', first.path];
  const graph = [`[0:v]${driftOver(width, height, fps, frames, random)},${uniformVideo(fps)}[opening]`];
  let video = '[opening]';
  if (last) {
    inputs.push('-loop', '1', '-t', String(durationSec), '-i', last.path);
    graph.push(`[1:v]${fillFrame(width, height)},${uniformVideo(fps)}[ending]`);
    graph.push(`[opening][ending]xfade=transition=fade:duration=${(durationSec * 0.5).toFixed(3)}:offset=${(durationSec * 0.4).toFixed(3)}[dissolve]`);
    video = '[dissolve]';
  }
  const audioIndex = inputCount(inputs);
  inputs.push(...audioInput(job, durationSec, options.silent));
  graph.push(`${video}${overlays(job, options)},${holdLastFrame(fps)}[video]`, `[${audioIndex}:a]${fitAudio(durationSec)}[audio]`);
  return { files: textFiles(job, options), commands: [renderCommand(job, inputs, graph)] };
}

/**
 * video_continuation: the clip, then a continuation from its last frame, ending on image_end when
 * given. `clipShare` is the most of the output the clip may fill (an extension shows some new video).
 */
export function continuationPlan(job: RenderJob, clipShare = 1, options: PreviewOptions = {}): FfmpegPlan {
  const { width, height, fps, durationSec } = job.output;
  const clip = job.inputs['video_urls[0]'];
  const clipFrames = Math.round(Math.min(clip.durationSec ?? durationSec, durationSec * clipShare) * fps);
  const clipSeconds = clipFrames / fps;
  const restSeconds = segmentSeconds(clipSeconds, durationSec, fps);
  const inputs = ['-i', clip.path];
  const graph = [`[0:v]${fillFrame(width, height)},${uniformVideo(fps)},trim=end_frame=${clipFrames},setpts=PTS-STARTPTS[clip]`];
  const clipAudio = clip.hasAudio ? '0:a' : `${inputCount(inputs)}:a`;
  if (!clip.hasAudio) inputs.push(...silenceInput(clipSeconds));
  graph.push(`[${clipAudio}]${fitAudio(clipSeconds)}[clipsound]`);
  if (restSeconds <= 0) {
    graph.push(`[clip]${label('label.txt', height)}[video]`, '[clipsound]anull[audio]');
    return { files: textFiles(job), commands: [renderCommand(job, inputs, graph)] };
  }
  const restFrames = Math.round(restSeconds * fps);
  const random = seededRandom(job.seed, 'continuation');
  graph.push(`[${inputCount(inputs)}:v]${driftOver(width, height, fps, restFrames, random)},${uniformVideo(fps)}[onward]`);
  inputs.push('-i', LAST_FRAME_FILE);
  let onward = '[onward]';
  const end = job.inputs.image_end;
  if (end) {
    graph.push(`[${inputCount(inputs)}:v]${fillFrame(width, height)},${uniformVideo(fps)}[ending]`);
    inputs.push('-loop', '1', '-t', String(restSeconds), '-i', end.path);
    graph.push(`[onward][ending]xfade=transition=fade:duration=${(restSeconds * 0.5).toFixed(3)}:offset=${(restSeconds * 0.4).toFixed(3)}[dissolve]`);
    onward = '[dissolve]';
  }
  graph.push(`${onward}trim=end_frame=${restFrames},setpts=PTS-STARTPTS[continued]`);
  graph.push(`[${inputCount(inputs)}:a]${fitAudio(restSeconds)}[newsound]`);
  inputs.push(...(options.silent ? silenceInput(restSeconds) : soundtrackInput(soundtrackExpression(job.seed), restSeconds)));
  const shown = job.params.prompt ? `${caption('prompt.txt', height, `gte(t,${(clipSeconds + 0.5).toFixed(2)})`)},` : '';
  graph.push(`[clip][continued]concat=n=2:v=1:a=0,${shown}${label('label.txt', height)},${holdLastFrame(fps)}[video]`);
  graph.push('[clipsound][newsound]concat=n=2:v=0:a=1[audio]');
  const lastFrame = ['-sseof', '-0.5', '-i', clip.path, '-update', '1', '-y', LAST_FRAME_FILE];
  return { files: textFiles(job), commands: [lastFrame, renderCommand(job, inputs, graph)] };
}

function overlays(job: RenderJob, options: PreviewOptions): string {
  const { height } = job.output;
  const shown = (options.prompt ?? job.params.prompt) ? [caption('prompt.txt', height, AFTER_OPENING)] : [];
  return [...shown, label('label.txt', height, AFTER_OPENING)].join(',');
}

function textFiles(job: RenderJob, options: PreviewOptions = {}): Record<string, string> {
  const { width, height } = job.output;
  return { 'label.txt': labelText(job), 'prompt.txt': wrapText(options.prompt ?? String(job.params.prompt ?? ''), captionWidth(width, height)) };
}

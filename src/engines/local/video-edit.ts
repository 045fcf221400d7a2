import type { RenderJob } from '../engine.ts';
import {
  caption, captionWidth, inputCount, renderCommand, type FfmpegPlan, fillFrame, fitAudio, label, labelText, silenceInput, soundtrackInput, uniformVideo, wrapText,
} from './graph.ts';
import { editStyle, soundtrackExpression, speaksOfSound } from './look.ts';

/**
 * Both edit models: the source cut to the output length and reframed, a style picked from the
 * prompt, the reference images shown in a strip, and audio as CONTRACT §2.4/§2.5 say.
 */
export function videoEditPlan(job: RenderJob, soundChoice?: EditSound): FfmpegPlan {
  const { width, height, fps, durationSec } = job.output;
  const source = job.inputs['video_urls[0]'] ?? job.inputs.video_url ?? Object.values(job.inputs).find((input) => input.kind === 'video')!;
  const references = Object.keys(job.inputs).filter((field) => field.startsWith('image_urls[')).sort(byIndex).map((field) => job.inputs[field]);
  const prompt = String(job.params.prompt ?? '');
  const style = editStyle(prompt);
  const frames = Math.round(durationSec * fps);

  const inputs = ['-i', source.path];
  const graph = [`[0:v]${fillFrame(width, height)},${uniformVideo(fps)},trim=end_frame=${frames},setpts=PTS-STARTPTS,${style.filter}[styled]`];
  let video = '[styled]';
  if (references.length > 0) {
    const thumb = Math.round(height / 5);
    references.forEach((reference) => {
      graph.push(`[${inputCount(inputs)}:v]scale=-2:${thumb},setsar=1,format=yuv420p,pad=iw+8:ih+8:4:4:white[ref${inputCount(inputs)}]`);
      inputs.push('-i', reference.path);
    });
    const labels = references.map((_, i) => `[ref${i + 1}]`).join('');
    graph.push(references.length > 1 ? `${labels}hstack=inputs=${references.length}[strip]` : `${labels}null[strip]`);
    graph.push(`[styled][strip]overlay=x=W-w-${thumb / 8}:y=H-h-${thumb / 8}:eof_action=repeat[framed]`);
    video = '[framed]';
  }
  const shown = prompt ? `${caption('prompt.txt', height, 'lt(t,3)')},` : '';
  graph.push(`${video}${shown}${label('label.txt', height)}[video]`);

  const chosen = soundChoice ?? editSound(job, source.hasAudio, prompt);
  const sound = chosen === 'source' && !source.hasAudio ? 'silence' : chosen;
  const audioIndex = inputCount(inputs);
  if (sound === 'source') graph.push(`[0:a]${fitAudio(durationSec)}[audio]`);
  else {
    inputs.push(...(sound === 'new' ? soundtrackInput(soundtrackExpression(job.seed), durationSec) : silenceInput(durationSec)));
    graph.push(`[${audioIndex}:a]${fitAudio(durationSec)}[audio]`);
  }
  const files = {
    'label.txt': labelText(job, ` · style ${style.name} · sound ${sound}`),
    'prompt.txt': wrapText(prompt, captionWidth(width, height)),
  };
  return { files, commands: [renderCommand(job, inputs, graph)] };
}

/**
 * Where the edit's sound comes from. wan2.7: keep_original_sound keeps the source; otherwise the
 * model makes new sound only when the prompt speaks of sound. happyhorse: keep or make new.
 */
export type EditSound = 'source' | 'new' | 'silence';

export function editSound(job: RenderJob, sourceHasAudio: boolean, prompt: string): EditSound {
  const keep = job.params.keep_original_sound === true;
  const makeNew = job.model.startsWith('happyhorse') ? !keep : !keep && speaksOfSound(prompt);
  if (makeNew) return 'new';
  return sourceHasAudio ? 'source' : 'silence';
}

function byIndex(a: string, b: string): number {
  return Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]);
}

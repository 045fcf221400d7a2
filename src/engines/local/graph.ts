import type { RenderJob } from '../engine.ts';
import { soundtrackExpression } from './look.ts';

/** How a catalog model's preview differs from a seed model's: its prompt text, and whether it is silent. */
export type PreviewOptions = { prompt?: string; silent?: boolean };

/**
 * One render as ffmpeg commands. Text for drawtext goes into `files` (written to the work
 * dir, which is ffmpeg's cwd), so no prompt is ever escaped into a filter graph.
 */
export type FfmpegPlan = {
  files: Record<string, string>;
  /** Commands run in order in the work dir; the last writes `OUTPUT_FILE` and reports progress. */
  commands: string[][];
};

export const OUTPUT_FILE = 'preview.mp4';
export const FONT = "font='DejaVu Sans'";
const AUDIO_RATE = 48000;

/** Scales and crops a stream to exactly fill `width`×`height`. */
export function fillFrame(width: number, height: number): string {
  return `scale=${width}:${height}:force_original_aspect_ratio=increase:flags=bicubic,crop=${width}:${height},setsar=1`;
}

/** Frame rate and pixel format every segment shares, so concat and xfade accept them. */
export function uniformVideo(fps: number): string {
  return `fps=${fps},format=yuv420p,settb=1/${fps}`;
}

/** Holds the last frame a second longer: zoompan can end a frame early, and the output's -t cuts the video at exactly the duration. */
export function holdLastFrame(fps: number): string {
  return `tpad=stop_mode=clone:stop=${fps}`;
}

/** Audio in the one layout the output uses, cut or padded with silence to `seconds`. */
export function fitAudio(seconds: number): string {
  return `aresample=${AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=0:${seconds},apad=whole_dur=${seconds},asetpts=N/SR/TB`;
}

/** Input arguments for `seconds` of silence. */
export function silenceInput(seconds: number): string[] {
  return ['-f', 'lavfi', '-t', String(seconds), '-i', `anullsrc=r=${AUDIO_RATE}:cl=stereo`];
}

/** The driving audio when the request gave one, else silence when the output has no sound, else a soundtrack from the seed. */
export function audioInput(job: RenderJob, seconds: number, silent = false): string[] {
  const driving = job.inputs['audio_urls[0]'] ?? job.inputs.audio_url;
  if (driving) return ['-i', driving.path];
  return silent ? silenceInput(seconds) : soundtrackInput(soundtrackExpression(job.seed), seconds);
}

/** Input arguments for a soundtrack expression (see look.ts). */
export function soundtrackInput(expression: string, seconds: number): string[] {
  return ['-f', 'lavfi', '-i', `aevalsrc=${expression}:s=${AUDIO_RATE}:d=${seconds}`];
}

/** The caption box drawn over previews: wrapped text, lower third, readable on any picture. */
export function caption(file: string, height: number, enable?: string): string {
  const size = Math.round(height / 24);
  return (
    `drawtext=textfile=${file}:${FONT}:expansion=none:fontsize=${size}:fontcolor=white:line_spacing=${Math.round(size / 4)}` +
    `:box=1:boxcolor=black@0.45:boxborderw=${Math.round(size / 2)}:x=(w-tw)/2:y=h-th-h/10${enable ? `:enable='${enable}'` : ''}`
  );
}

/** The small label in the top-left corner saying what made this video. */
export function label(file: string, height: number, enable?: string): string {
  const size = Math.max(12, Math.round(height / 40));
  return (
    `drawtext=textfile=${file}:${FONT}:expansion=none:fontsize=${size}:fontcolor=white@0.85:box=1:boxcolor=black@0.35` +
    `:boxborderw=${Math.round(size / 3)}:x=${size}:y=${size}${enable ? `:enable='${enable}'` : ''}`
  );
}

/**
 * Slow zoom and pan over a still frame for `frames` frames; the first frame is the still itself
 * (zoom 1), so a video opens exactly on its image. The seed picks where the camera drifts.
 */
export function driftOver(width: number, height: number, fps: number, frames: number, random: () => number): string {
  const [px, py] = [random().toFixed(3), random().toFixed(3)];
  const zoom = `1+0.2*on/${Math.max(1, frames)}`;
  return `${fillFrame(width, height)},zoompan=z='${zoom}':x='(iw-iw/zoom)*${px}':y='(ih-ih/zoom)*${py}':d=${frames}:s=${width}x${height}:fps=${fps}`;
}

/** Wraps text to lines of about `width` characters, at most `lines` of them. */
export function wrapText(text: string, width: number, lines = 4): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  const out: string[] = [];
  let line = '';
  for (const word of words) {
    const chunks = [...word].length > width ? (word.match(new RegExp(`.{1,${width}}`, 'gu')) ?? [word]) : [word];
    for (const chunk of chunks) {
      if (line && [...line].length + 1 + [...chunk].length > width) {
        out.push(line);
        line = chunk;
      } else line = line ? `${line} ${chunk}` : chunk;
    }
  }
  if (line) out.push(line);
  if (out.length > lines) return [...out.slice(0, lines - 1), `${out[lines - 1]} …`].join('\n');
  return out.join('\n');
}

/** Characters of caption per line that fit the frame width. */
export function captionWidth(width: number, height: number): number {
  return Math.max(16, Math.floor((width * 0.85) / ((height / 24) * 0.55)));
}

/** The label text: what made the video, and the seed that reproduces it. */
export function labelText(job: RenderJob, extra = ''): string {
  return `vidgate local preview · ${job.model} · seed ${job.seed}${job.params.prompt_extend ? ' · prompt extended' : ''}${extra}`;
}

/** Output arguments: H.264 + AAC MP4, fast start, bit-exact so the same request gives the same bytes. */
export function encodeTo(job: RenderJob, video: string, audio: string): string[] {
  const { fps, durationSec } = job.output;
  return [
    '-map', video, '-map', audio,
    '-t', String(durationSec),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-r', String(fps), '-g', String(fps * 2),
    '-c:a', 'aac', '-b:a', '128k', '-ar', String(AUDIO_RATE), '-ac', '2',
    '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact', '-map_metadata', '-1',
    '-movflags', '+faststart', '-threads', '2',
    '-y', OUTPUT_FILE,
  ];
}

/** The one ffmpeg command of a plan: inputs, the filter graph, and the `[video]` and `[audio]` it ends in, encoded. */
export function renderCommand(job: RenderJob, inputs: string[], graph: string[]): string[] {
  return [...inputs, '-filter_complex', graph.join(';'), ...encodeTo(job, '[video]', '[audio]')];
}

/** Frames in [start, end) at `fps`, rounded so consecutive segments add up exactly. */
export function segmentSeconds(start: number, end: number, fps: number): number {
  return (Math.round(end * fps) - Math.round(start * fps)) / fps;
}

/** How many inputs an argument list holds so far: the index the next `-i` gets. */
export function inputCount(inputs: string[]): number {
  return inputs.filter((arg) => arg === '-i').length;
}

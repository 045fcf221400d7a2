import type { RenderJob } from '../engine.ts';
import {
  audioInput, caption, captionWidth, renderCommand, type FfmpegPlan, fitAudio, FONT, label, labelText, type PreviewOptions, segmentSeconds, uniformVideo, wrapText,
} from './graph.ts';
import { baseHue, hslHex, seededRandom } from './look.ts';
import { parseShots } from './shots.ts';

/**
 * Text-to-video: per shot, moving colour gradients in the prompt's hues with a drifting
 * "subject", the shot's text drawn on it; cuts at the shot times; the driving audio or a
 * soundtrack from the seed.
 */
export function textToVideoPlan(job: RenderJob, options: PreviewOptions = {}): FfmpegPlan {
  const { width, height, fps, durationSec } = job.output;
  const prompt = options.prompt ?? String(job.params.prompt ?? '');
  const shots = parseShots(prompt, durationSec);
  const files: Record<string, string> = { 'label.txt': labelText(job), 'subject.txt': '●' };
  const inputs: string[] = [];
  const graph: string[] = [];
  const random = seededRandom(job.seed, prompt);
  const hue = baseHue(prompt, random);

  shots.forEach((shot, i) => {
    const seconds = segmentSeconds(shot.start, shot.end, fps);
    const shotHue = hue + i * 47 + random() * 20;
    const colors = [0, 25, -30, 160].map((offset, c) => `c${c}=${hslHex(shotHue + offset, 0.55 + random() * 0.3, 0.3 + random() * 0.3)}`);
    const speed = (0.008 + random() * 0.02).toFixed(4);
    inputs.push('-f', 'lavfi', '-i', `gradients=s=${width}x${height}:r=${fps}:d=${seconds}:${colors.join(':')}:n=4:speed=${speed}:seed=${job.seed + i}`);
    files[`shot-${i}.txt`] = wrapText(shot.text || prompt, captionWidth(width, height));
    const [a, b] = [(0.6 + random()).toFixed(3), (0.4 + random()).toFixed(3)];
    const subject =
      `drawtext=textfile=subject.txt:${FONT}:fontsize=h/5:fontcolor=white@0.55` +
      `:x='w/2+w/3*sin(t*${a}+${i})-tw/2':y='h/2.4+h/5*sin(t*${b}+${i})-th/2'`;
    graph.push(`[${i}:v]${uniformVideo(fps)},hue=h='t*9',${subject},${caption(`shot-${i}.txt`, height)}[s${i}]`);
  });

  const audioIndex = shots.length;
  inputs.push(...audioInput(job, durationSec, options.silent));

  const joined = shots.map((_, i) => `[s${i}]`).join('');
  graph.push(`${joined}concat=n=${shots.length}:v=1:a=0,${label('label.txt', height)}[video]`);
  graph.push(`[${audioIndex}:a]${fitAudio(durationSec)}[audio]`);
  return { files, commands: [renderCommand(job, inputs, graph)] };
}

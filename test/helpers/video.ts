import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type VideoFacts = {
  width: number;
  height: number;
  fps: number;
  durationSec: number;
  /** Frames in the video stream. */
  frames: number;
  videoCodec: string;
  audioCodec: string | null;
  /** The moov atom comes before the media data, so playback can start while downloading. */
  fastStart: boolean;
};

/** What ffprobe says of an MP4. */
export async function videoFacts(file: string): Promise<VideoFacts> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const probe = JSON.parse(stdout);
  const video = probe.streams.find((s: any) => s.codec_type === 'video');
  const audio = probe.streams.find((s: any) => s.codec_type === 'audio');
  const [num, den] = String(video.avg_frame_rate).split('/').map(Number);
  const bytes = readFileSync(file);
  return {
    width: video.width,
    height: video.height,
    fps: num / den,
    durationSec: Number(probe.format.duration),
    frames: Number(video.nb_frames),
    videoCodec: video.codec_name,
    audioCodec: audio?.codec_name ?? null,
    fastStart: bytes.indexOf('moov') < bytes.indexOf('mdat'),
  };
}

/** One md5 per decoded video frame: equal lists mean equal pictures. */
export async function frameDigests(file: string): Promise<string[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v', '-f', 'framemd5', '-'], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split(',').at(-1)!.trim());
}

/** Writes frame `n` (0-based) of a video, or the picture of an image, as a PNG of `width`×`height` filled like the engine fills. */
export async function framePng(file: string, n: number, width: number, height: number, out: string): Promise<string> {
  const fill = `scale=${width}:${height}:force_original_aspect_ratio=increase:flags=bicubic,crop=${width}:${height},setsar=1`;
  await run('ffmpeg', ['-v', 'error', '-y', '-i', file, '-vf', `select=eq(n\\,${n}),${fill}`, '-frames:v', '1', out]);
  return out;
}

/** Peak signal-to-noise ratio between two same-sized pictures, in dB (higher = more alike). */
export async function psnr(a: string, b: string): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-v', 'info', '-i', a, '-i', b, '-lavfi', 'psnr', '-f', 'null', '-']);
  const match = /average:(inf|[\d.]+)/.exec(stderr);
  if (!match) throw new Error(`no PSNR in: ${stderr.slice(-500)}`);
  return match[1] === 'inf' ? Infinity : Number(match[1]);
}

/** The loudest sample of a file's audio in dB (about −91 for digital silence). */
export async function maxVolume(file: string): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-v', 'info', '-i', file, '-map', '0:a', '-af', 'volumedetect', '-f', 'null', '-']);
  const match = /max_volume: (-?inf|-?[\d.]+) dB/.exec(stderr);
  if (!match) throw new Error(`no volume in: ${stderr.slice(-500)}`);
  return match[1].endsWith('inf') ? -Infinity : Number(match[1]);
}

/** Average saturation of frame `n` (signalstats SATAVG; near 0 for black and white). */
export async function saturation(file: string, n: number): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-v', 'info', '-i', file, '-vf', `select=eq(n\\,${n}),signalstats,metadata=print:key=lavfi.signalstats.SATAVG`, '-frames:v', '1', '-f', 'null', '-']);
  const match = /SATAVG=([\d.]+)/.exec(stderr);
  if (!match) throw new Error(`no saturation in: ${stderr.slice(-500)}`);
  return Number(match[1]);
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { MediaInfo } from '../contract/media-limits.ts';
import { cappedCommand, DEMUXERS, NO_CAPS, type ProcessCaps } from './caps.ts';

const run = promisify(execFile);

const streamSchema = z.looseObject({
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  pix_fmt: z.string().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  duration: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  side_data_list: z.array(z.looseObject({ rotation: z.number().optional() })).optional(),
  disposition: z.looseObject({ attached_pic: z.number().optional() }).optional(),
});

const probeSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z.looseObject({
    format_name: z.string(),
    duration: z.string().optional(),
    size: z.string().optional(),
    tags: z.record(z.string(), z.string()).optional(),
  }),
});

export type ProbeOutput = z.infer<typeof probeSchema>;

/** A file ffprobe could not read as media. */
export class ProbeError extends Error {}

export type ProbeOptions = {
  signal?: AbortSignal;
  caps?: ProcessCaps;
  /** The demuxers ffprobe may use (`-format_whitelist`); default: every container the contract accepts. */
  formats?: string;
};

const ALL_DEMUXERS = [...new Set(Object.values(DEMUXERS).flatMap((d) => d.split(',')))].join(',');

/**
 * Runs ffprobe on a local file (argument array, no shell): only the file protocol and the
 * allowed demuxers (CONTRACT §8.11), under the process caps and a 30 s time cap.
 */
export async function runFfprobe(ffprobePath: string, file: string, { signal, caps = NO_CAPS, formats = ALL_DEMUXERS }: ProbeOptions = {}): Promise<ProbeOutput> {
  const args = ['-v', 'error', '-protocol_whitelist', 'file', '-format_whitelist', formats, '-print_format', 'json', '-show_format', '-show_streams', file];
  let stdout: string;
  try {
    const [command, commandArgs, options] = cappedCommand(ffprobePath, args, caps);
    ({ stdout } = await run(command, commandArgs, { ...options, maxBuffer: 8 * 1024 * 1024, timeout: 30_000, killSignal: 'SIGKILL', signal }));
  } catch (error) {
    // Stopped by the caller (a deadline, a sibling's failure): that says nothing about the file.
    if (signal?.aborted) throw signal.reason ?? error;
    throw new ProbeError('is not a readable media file');
  }
  let parsed;
  try {
    parsed = probeSchema.safeParse(JSON.parse(stdout));
  } catch {
    throw new ProbeError('is not a readable media file');
  }
  if (!parsed.success) throw new ProbeError('is not a readable media file');
  return parsed.data;
}

const ALPHA_PIXEL_FORMAT = /^(rgba|bgra|argb|abgr|ya\d|yuva|gbrap|rgba64|bgra64)/;
const IMAGE_PIPES: Record<string, MediaInfo['container']> = { png_pipe: 'png', jpeg_pipe: 'jpeg', bmp_pipe: 'bmp', webp_pipe: 'webp' };

/** Reduces ffprobe's output to what the contract's limit checks read. */
export function toMediaInfo(probe: ProbeOutput, bytes: number): MediaInfo {
  const video = probe.streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  const info: MediaInfo = { container: containerOf(probe), formatName: probe.format.format_name.split(',')[0], bytes, hasAudio: audio !== undefined, hasVideo: video !== undefined };
  if (video?.width && video.height) {
    const quarterTurn = Math.abs(rotationOf(video)) % 180 === 90;
    info.width = quarterTurn ? video.height : video.width;
    info.height = quarterTurn ? video.width : video.height;
    info.hasAlpha = ALPHA_PIXEL_FORMAT.test(video.pix_fmt ?? '');
    const fps = parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate);
    if (fps !== undefined) info.fps = fps;
  }
  const duration = Number(probe.format.duration ?? video?.duration ?? audio?.duration);
  if (Number.isFinite(duration) && duration > 0 && !(info.container in IMAGE_CONTAINERS)) info.durationSec = duration;
  return info;
}

const IMAGE_CONTAINERS = { jpeg: 1, png: 1, bmp: 1, webp: 1 };

function containerOf(probe: ProbeOutput): MediaInfo['container'] {
  const names = probe.format.format_name.split(',');
  for (const name of names) if (IMAGE_PIPES[name]) return IMAGE_PIPES[name];
  if (names.includes('image2')) {
    const codec = probe.streams[0]?.codec_name;
    if (codec === 'mjpeg') return 'jpeg';
    if (codec === 'png' || codec === 'bmp' || codec === 'webp') return codec;
  }
  if (names.includes('mov') || names.includes('mp4')) {
    const brand = probe.format.tags?.major_brand?.trim();
    if (brand === 'qt') return 'mov';
    return brand?.startsWith('3g') ? 'other' : 'mp4';
  }
  if (names.includes('wav')) return 'wav';
  if (names.includes('mp3')) return 'mp3';
  return 'other';
}

function rotationOf(stream: z.infer<typeof streamSchema>): number {
  const fromSideData = stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  return fromSideData ?? Number(stream.tags?.rotate ?? 0);
}

function parseRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const [num, den] = rate.split('/').map(Number);
  const value = den ? num / den : num;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

import { invalidField } from './errors.ts';

/** What ingest learned about one fetched medium; the pure limit checks read only this. */
export type MediaInfo = {
  container: 'jpeg' | 'png' | 'bmp' | 'webp' | 'mp4' | 'mov' | 'wav' | 'mp3' | 'other';
  /** The prober's own name for the format, shown when it is not one the contract knows. */
  formatName?: string;
  bytes: number;
  width?: number;
  height?: number;
  durationSec?: number;
  fps?: number;
  hasAlpha?: boolean;
  hasAudio: boolean;
  hasVideo: boolean;
};

export type MediaKind = 'image' | 'video' | 'audio';

/** Limits of one media field; absent entries are not checked. */
export type MediaLimits = {
  kind: MediaKind;
  formats: readonly MediaInfo['container'][];
  maxBytes: number;
  durationSec?: readonly [number, number];
  side?: readonly [number, number];
  shortEdgeMin?: number;
  longEdgeMax?: number;
  maxAspect?: number;
  fpsAbove?: number;
  /** Frame rate bounds, inclusive (with a little slack for 23.976 and 59.94). */
  fpsRange?: readonly [number, number];
  noAlpha?: boolean;
};

/**
 * A medium a request names, with the limits that apply to it: at a URL, or inline as base64
 * (`inline`, where a model documents it; `url` then says where it came from, not where to fetch).
 */
export type MediaNeed = { field: string; url: string; limits: MediaLimits; inline?: string };

const MB = 1024 * 1024;
// Container padding makes a 2 s clip probe as 1.98 s or 2.02 s; bounds allow this much.
export const DURATION_TOLERANCE_SEC = 0.1;

export const WAN_IMAGE: MediaLimits = {
  kind: 'image', formats: ['jpeg', 'png', 'bmp', 'webp'], maxBytes: 20 * MB, side: [240, 8000], maxAspect: 8, noAlpha: true,
};
export const WAN_CLIP: MediaLimits = {
  kind: 'video', formats: ['mp4', 'mov'], maxBytes: 100 * MB, durationSec: [2, 10], side: [240, 4096], maxAspect: 8,
};
export const WAN_AUDIO: MediaLimits = { kind: 'audio', formats: ['wav', 'mp3'], maxBytes: 15 * MB, durationSec: [2, 30] };
export const HAPPYHORSE_IMAGE: MediaLimits = {
  kind: 'image', formats: ['jpeg', 'png', 'webp'], maxBytes: 10 * MB, side: [300, Infinity], maxAspect: 2.5,
};
export const HAPPYHORSE_CLIP: MediaLimits = {
  kind: 'video', formats: ['mp4', 'mov'], maxBytes: 100 * MB, durationSec: [3, 60], shortEdgeMin: 320, longEdgeMax: 2160,
  maxAspect: 2.5, fpsAbove: 8,
};

const FORMAT_NAMES: Record<MediaInfo['container'], string> = {
  jpeg: 'JPEG', png: 'PNG', bmp: 'BMP', webp: 'WEBP', mp4: 'MP4', mov: 'MOV', wav: 'WAV', mp3: 'MP3', other: 'unrecognised',
};

export function formatBytes(bytes: number): string {
  return bytes >= MB ? `${+(bytes / MB).toFixed(1)} MB` : `${+(bytes / 1024).toFixed(1)} KB`;
}

const seconds = (value: number) => `${+value.toFixed(2)} s`;

/** Throws 400 naming the field, the value and the limit when `info` breaks `limits`. */
export function checkMediaLimits(field: string, info: MediaInfo, limits: MediaLimits): void {
  const fail = (message: string) => invalidField(field, message);
  checkMediaFormat(field, info.container, limits, info.formatName);
  if (limits.kind !== 'audio' && !info.hasVideo) throw fail(`no ${limits.kind} stream found`);
  if (limits.kind === 'audio' && !info.hasAudio) throw fail('no audio stream found');
  if (info.bytes > limits.maxBytes) throw fail(`size ${formatBytes(info.bytes)} is over the ${formatBytes(limits.maxBytes)} limit`);
  if (limits.durationSec) {
    const [min, max] = limits.durationSec;
    const d = info.durationSec;
    if (d === undefined) throw fail('duration could not be read');
    if (d < min - DURATION_TOLERANCE_SEC || d > max + DURATION_TOLERANCE_SEC) throw fail(`duration ${seconds(d)} is outside ${min}–${max} s`);
  }
  if (limits.kind !== 'audio') {
    if (!info.width || !info.height) throw fail('width and height could not be read');
    checkFrameSize(field, info.width, info.height, limits);
  }
  if (limits.fpsAbove !== undefined && !(info.fps !== undefined && info.fps > limits.fpsAbove)) {
    throw fail(`frame rate ${info.fps === undefined ? 'unknown' : `${+info.fps.toFixed(2)} fps`} must be above ${limits.fpsAbove} fps`);
  }
  if (limits.fpsRange && !(info.fps !== undefined && info.fps >= limits.fpsRange[0] - 0.1 && info.fps <= limits.fpsRange[1] + 0.1)) {
    throw fail(`frame rate ${info.fps === undefined ? 'unknown' : `${+info.fps.toFixed(2)} fps`} is outside ${limits.fpsRange[0]}–${limits.fpsRange[1]} fps`);
  }
  if (limits.noAlpha && info.hasAlpha) throw fail('images with an alpha (transparency) channel are not accepted');
}

/** 400 naming the field unless `container` is one the field takes; `name` is the prober's name for an unknown one. */
export function checkMediaFormat(field: string, container: MediaInfo['container'], limits: MediaLimits, name?: string): void {
  if (limits.formats.includes(container)) return;
  const shown = container === 'other' ? (name ?? 'unrecognised') : FORMAT_NAMES[container];
  throw invalidField(field, `format ${shown} is not accepted; use ${limits.formats.map((f) => FORMAT_NAMES[f]).join(', ')}`);
}

/** Pixels vidgate decodes at most in one frame (64 MP): larger images are refused from their header, whatever the field allows. */
export const MAX_DECODE_PIXELS = 64 * 1024 * 1024;

/** 400 naming the field when a frame of `width`×`height` breaks the field's size rules, or is too large to decode. */
export function checkFrameSize(field: string, width: number, height: number, limits: MediaLimits): void {
  const fail = (message: string) => invalidField(field, message);
  const size = `${width}×${height}`;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  if (limits.side) {
    const [min, max] = limits.side;
    const range = max === Infinity ? `at least ${min} px` : `${min}–${max} px`;
    if (short < min || long > max) throw fail(`size ${size} is outside the allowed width and height of ${range}`);
  }
  if (limits.shortEdgeMin !== undefined && short < limits.shortEdgeMin) throw fail(`size ${size}: short edge ${short} px is under ${limits.shortEdgeMin} px`);
  if (limits.longEdgeMax !== undefined && long > limits.longEdgeMax) throw fail(`size ${size}: long edge ${long} px is over ${limits.longEdgeMax} px`);
  if (limits.maxAspect !== undefined && long / short > limits.maxAspect + 1e-9) {
    throw fail(`aspect ratio ${size} is outside 1:${limits.maxAspect}–${limits.maxAspect}:1`);
  }
  if (width * height > MAX_DECODE_PIXELS) throw fail(`size ${size} is over the ${MAX_DECODE_PIXELS / 1024 / 1024}-megapixel limit`);
}

export const ASPECT_RATIOS = ['16:9', '9:16', '1:1', '4:3', '3:4'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];
export const QUALITIES = ['720p', '1080p'] as const;
/** The seed models' two qualities (CONTRACT §2.1). */
export type SeedQuality = (typeof QUALITIES)[number];
/** A quality of any catalog model (see SHORT_EDGE). */
export type Quality = string;

/** Output pixel sizes by quality and aspect ratio (CONTRACT §2.1). */
export const OUTPUT_SIZES: Record<SeedQuality, Record<AspectRatio, readonly [number, number]>> = {
  '720p': { '16:9': [1280, 720], '9:16': [720, 1280], '1:1': [960, 960], '4:3': [1104, 832], '3:4': [832, 1104] },
  '1080p': { '16:9': [1920, 1080], '9:16': [1080, 1920], '1:1': [1440, 1440], '4:3': [1648, 1248], '3:4': [1248, 1648] },
};

const RATIO_VALUE: Record<AspectRatio, number> = { '16:9': 16 / 9, '9:16': 9 / 16, '1:1': 1, '4:3': 4 / 3, '3:4': 3 / 4 };

/** The table's aspect ratio nearest, in log-ratio, to a width × height input. */
export function nearestAspectRatio(width: number, height: number): AspectRatio {
  const target = Math.log(width / height);
  let best: AspectRatio = '16:9';
  for (const ratio of ASPECT_RATIOS) {
    if (Math.abs(Math.log(RATIO_VALUE[ratio]) - target) < Math.abs(Math.log(RATIO_VALUE[best]) - target)) best = ratio;
  }
  return best;
}

export type OutputFormat = { width: number; height: number; fps: number; aspect_ratio: AspectRatio };

export function outputFormat(quality: Quality, aspect: AspectRatio, fps: number): OutputFormat {
  const [width, height] = OUTPUT_SIZES[quality as SeedQuality][aspect];
  return { width, height, fps, aspect_ratio: aspect };
}

/** Every quality the catalog names (CATALOG.md §1.3), with the short edge of its frame in pixels. */
export const SHORT_EDGE: Readonly<Record<string, number>> = Object.freeze({
  '480p': 480, '512p': 512, '720p': 720, '768p': 768, '1080p': 1080, '2k': 1440, '4k': 2160,
});
export const CATALOG_QUALITIES = Object.keys(SHORT_EDGE);

/** The nearest even number of pixels (H.264 in yuv420p needs even sides). */
const even = (pixels: number) => Math.max(2, 2 * Math.round(pixels / 2));

/** A frame of `quality` at `ratio` (width / height): the short edge from the quality, the long edge from the ratio. */
export function frameSize(quality: string, ratio: number): { width: number; height: number } {
  const short = SHORT_EDGE[quality] ?? 720;
  return ratio >= 1 ? { width: even(short * ratio), height: short } : { width: short, height: even(short / ratio) };
}

/** "16:9" → 16/9, "1280x720" → 1280/720; undefined for words such as "adaptive" or "auto". */
export function ratioValue(aspect: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*[:x]\s*(\d+(?:\.\d+)?)$/.exec(aspect);
  return match ? Number(match[1]) / Number(match[2]) : undefined;
}

export const ASPECT_RATIOS = ['16:9', '9:16', '1:1', '4:3', '3:4'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];
export const QUALITIES = ['720p', '1080p'] as const;
export type Quality = (typeof QUALITIES)[number];

/** Output pixel sizes by quality and aspect ratio (CONTRACT §2.1). */
export const OUTPUT_SIZES: Record<Quality, Record<AspectRatio, readonly [number, number]>> = {
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
  const [width, height] = OUTPUT_SIZES[quality][aspect];
  return { width, height, fps, aspect_ratio: aspect };
}

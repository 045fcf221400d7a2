import { createHash } from 'node:crypto';

/** A small seeded generator (mulberry32): the same seed and prompt always pick the same look. */
export function seededRandom(seed: number, salt = ''): () => number {
  let state = createHash('sha256').update(`${seed}:${salt}`).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Words in a prompt that set the base hue (degrees) of a text-to-video preview. */
const HUE_WORDS: [RegExp, number][] = [
  [/\b(fire|flame|lava|sunset|red|blood)\b|火|红/i, 10],
  [/\b(desert|sand|gold|golden|autumn|orange)\b|沙|金/i, 38],
  [/\b(sun|yellow|lemon|summer)\b|黄/i, 55],
  [/\b(forest|grass|jungle|green|leaf|leaves|garden)\b|森林|绿/i, 120],
  [/\b(ocean|sea|water|river|lake|wave|waves|blue|sky|rain)\b|海|水|蓝|天/i, 205],
  [/\b(night|space|galaxy|star|stars|moon|dark)\b|夜|星/i, 240],
  [/\b(purple|violet|magic|dream|neon)\b|紫/i, 285],
  [/\b(flower|rose|pink|love|candy)\b|花|粉/i, 330],
];

/** The base hue a prompt speaks of, or one the seed picks. */
export function baseHue(prompt: string, random: () => number): number {
  for (const [words, hue] of HUE_WORDS) if (words.test(prompt)) return hue;
  return Math.floor(random() * 360);
}

/** `0xRRGGBB` for a hue (degrees), saturation and lightness (0–1). */
export function hslHex(hue: number, saturation: number, lightness: number): string {
  const h = (((hue % 360) + 360) % 360) / 360;
  const f = (n: number) => {
    const k = (n + h * 12) % 12;
    const a = saturation * Math.min(lightness, 1 - lightness);
    return Math.round(255 * (lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `0x${[f(0), f(8), f(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** A visible style change for the edit models, picked from words in the prompt. */
export type EditStyle = { name: string; filter: string };

const SEPIA = 'colorchannelmixer=.393:.769:.189:0:.349:.686:.168:0:.272:.534:.131';
const POSTERIZE = (step: number) => ['r', 'g', 'b'].map((c) => `${c}='val-mod(val\\,${step})'`).join(':');

const EDIT_STYLES: [RegExp, EditStyle][] = [
  [/\b(black[- ]and[- ]white|monochrome|grayscale|greyscale|b&w)\b|黑白/i, { name: 'black and white', filter: 'hue=s=0,eq=contrast=1.15' }],
  [/\b(sepia|vintage|old film|retro)\b|复古/i, { name: 'sepia', filter: `${SEPIA},vignette=PI/4` }],
  [/\b(clay|claymation|plasticine)\b|黏土/i, { name: 'clay', filter: `eq=saturation=1.5:contrast=1.1,lutrgb=${POSTERIZE(40)}` }],
  [/\b(cartoon|anime|comic|toon)\b|卡通|动漫/i, { name: 'cartoon', filter: `eq=saturation=1.8:contrast=1.2,lutrgb=${POSTERIZE(72)},unsharp=7:7:2.5` }],
  [/\b(night|dark|moonlight|midnight)\b|夜/i, { name: 'night', filter: 'eq=brightness=-0.18:saturation=0.7:contrast=1.1,colorbalance=bs=0.3:bm=0.15:rs=-0.1' }],
  [/\b(snow|snowy|winter|frost|ice)\b|雪|冬/i, { name: 'snow', filter: 'eq=brightness=0.1:saturation=0.55,colorbalance=bs=0.15:bm=0.1,noise=alls=28:allf=t' }],
  [/\b(sunset|warm|golden hour|summer)\b|夕阳/i, { name: 'warm', filter: 'colorbalance=rs=0.2:gs=0.05:bs=-0.15:rm=0.12:bm=-0.1,eq=saturation=1.2' }],
];

const DEFAULT_GRADE: EditStyle = { name: 'graded', filter: 'eq=contrast=1.1:saturation=1.3,vignette=PI/5' };

/** The style an edit prompt asks for; a default grade when it names none. */
export function editStyle(prompt: string): EditStyle {
  for (const [words, style] of EDIT_STYLES) if (words.test(prompt)) return style;
  return DEFAULT_GRADE;
}

/** Every style, the default included. */
export const ALL_EDIT_STYLES: readonly EditStyle[] = [...EDIT_STYLES.map(([, style]) => style), DEFAULT_GRADE];

/** Whether an edit prompt speaks of sound, so the model would make new audio. */
export function speaksOfSound(prompt: string): boolean {
  return /\b(sound|sounds|audio|music|song|sing|singing|voice|noise|soundtrack|quiet|silent|silence)\b|音|声/i.test(prompt);
}

/**
 * A soundtrack from the seed: a soft chord with a slow swell, as an `aevalsrc` expression
 * (stereo, each channel slightly detuned).
 */
export function soundtrackExpression(seed: number): string {
  const random = seededRandom(seed, 'audio');
  const root = 110 * 2 ** (Math.floor(random() * 12) / 12);
  const notes = [1, random() < 0.5 ? 1.189 : 1.26, 1.498].map((ratio) => +(root * 2 * ratio).toFixed(3));
  const swell = +(0.15 + random() * 0.35).toFixed(3);
  const voice = (detune: number) =>
    `(${notes.map((f) => `sin(2*PI*${+(f * detune).toFixed(3)}*t)`).join('+')})*0.07*(0.65+0.35*sin(2*PI*${swell}*t))`;
  return `${voice(1)}|${voice(1.003)}`;
}

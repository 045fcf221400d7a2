import { invalidField } from '../errors.ts';
import { DURATION_TOLERANCE_SEC } from '../media-limits.ts';
import { type Body, firstOf, type MediaByField, type OutputSeconds, secondsOf } from './entry.ts';
import type { JsonSchema } from './json-schema.ts';

/** Small, named rules the catalog's prose states, shared by the entries (CATALOG.md §1.3). */

export const count = (body: Body, field: string): number => (Array.isArray(body[field]) ? (body[field] as unknown[]).length : body[field] === undefined ? 0 : 1);

/** A patch: an integer enum (prose-only values such as 5 or 10) with its default. */
export const intEnum = (values: number[], fallback?: number): Partial<JsonSchema> => ({ type: 'integer', enum: values, default: fallback });
/** A patch: a string enum with its default. */
export const textEnum = (values: string[], fallback?: string): Partial<JsonSchema> => ({ type: 'string', enum: values, default: fallback });
/** A patch: an integer range, or -1 for "the model picks the length" (wan3.0, seedance-2.5). */
export const rangeOrAuto = (min: number, max: number, fallback: number): Partial<JsonSchema> => ({
  oneOf: [{ type: 'integer', enum: [-1] }, { type: 'integer', minimum: min, maximum: max }], default: fallback, type: undefined,
});

export const ASPECTS_5 = ['16:9', '9:16', '1:1', '4:3', '3:4'];

/** The `duration` field, where -1 or "auto" lets the model choose: the preview renders `preview` s, the reservation covers `cap` s. */
export const durationField = (cap: number, preview: number) => (body: Body): OutputSeconds => {
  const value = body.duration;
  if (value === -1 || value === 'auto') return { seconds: preview, reserve: cap };
  return { seconds: Number(value) };
};

/** The output follows an input's length (edits, upscales), at most `max` seconds. */
export const inputLength = (prefix: string, max = Infinity) => (_body: Body, media: MediaByField): OutputSeconds => ({
  seconds: Math.min(max, firstOf(media, prefix)?.durationSec ?? 5),
});

/** A fixed length the model always makes. */
export const fixedLength = (seconds: number) => (): OutputSeconds => ({ seconds });

/** Rejects `field` unless `other` is also given. */
export function needs(body: Body, field: string, other: string): void {
  if (body[field] !== undefined && body[other] === undefined) throw invalidField(field, `needs ${other}`);
}

/** At least one of `fields` must be given. */
export function oneOfPresent(body: Body, fields: string[], what = 'is required'): void {
  if (fields.every((field) => count(body, field) === 0)) throw invalidField(fields[0], `${what}: give at least one of ${fields.join(', ')}`);
}

/** Media of `prefix` may add up to at most `max` seconds. */
export function totalAtMost(media: MediaByField, prefix: string, max: number): void {
  const total = secondsOf(media, prefix);
  if (total > max + DURATION_TOLERANCE_SEC) throw invalidField(prefix, `the clips add up to ${+total.toFixed(2)} s; at most ${max} s in total`);
}

/** Billed input seconds of every clip of `prefix`, each capped at `eachCap` (wan2.6 references: 5 s over 1, 2.5 over 2, 1.65 over 3). */
export function cappedInputs(media: MediaByField, prefix: string, caps: number[]): number {
  const clips = Object.entries(media).filter(([field]) => field.startsWith(`${prefix}[`)).map(([, info]) => info.durationSec ?? 0);
  const cap = caps[clips.length - 1] ?? caps.at(-1)!;
  return clips.reduce((sum, seconds) => sum + Math.min(seconds, cap), 0);
}

/**
 * Kling's multi-shot (model_params): with multi_shot and shot_type "customize", 1–6 shots whose
 * string durations add up to `duration`, each prompt at most 512 characters.
 */
export function checkKlingShots(body: Body, duration: number, promptRequired: boolean): void {
  const params = (body.model_params ?? {}) as Body;
  // The prompt may be left out only when the shots carry the text (CATALOG.md §4.4).
  const customShots = params.multi_shot === true && params.shot_type === 'customize';
  if (promptRequired && !customShots && (typeof body.prompt !== 'string' || body.prompt === '')) throw invalidField('prompt', 'is required unless model_params.multi_shot is true with shot_type "customize"');
  if (params.multi_shot !== true) return;
  if (params.shot_type === undefined) throw invalidField('model_params.shot_type', 'is required when multi_shot is true');
  if (params.shot_type !== 'customize') return;
  const shots = params.multi_prompt;
  if (!Array.isArray(shots) || shots.length < 1 || shots.length > 6) throw invalidField('model_params.multi_prompt', 'must hold 1 to 6 shots when shot_type is "customize"');
  let sum = 0;
  shots.forEach((shot: unknown, i) => {
    const { prompt, duration: seconds } = (shot ?? {}) as Body;
    const where = `model_params.multi_prompt[${i}]`;
    if (typeof prompt !== 'string' || prompt.length > 512) throw invalidField(`${where}.prompt`, 'must be a string of at most 512 characters');
    const value = Number(seconds);
    if (typeof seconds !== 'string' || !Number.isInteger(value) || value < 1) throw invalidField(`${where}.duration`, 'must be a whole number of seconds written as a string, e.g. "3"');
    sum += value;
  });
  if (sum !== duration) throw invalidField('model_params.multi_prompt', `shot durations add up to ${sum} s; they must add up to duration (${duration} s)`);
}

/** Kling element ids in model_params.element_list. */
export const elementCount = (body: Body): number => count((body.model_params ?? {}) as Body, 'element_list');

/** Truncates the prompt to `max` code points, or `chinese` when it contains Chinese (happyhorse). */
export function truncatePrompt(body: Body, max: number, chinese = max): void {
  if (typeof body.prompt !== 'string') return;
  const limit = /\p{Script=Han}/u.test(body.prompt) ? chinese : max;
  const points = [...body.prompt];
  if (points.length > limit) body.prompt = points.slice(0, limit).join('');
}

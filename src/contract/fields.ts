import { z } from 'zod';
import { ASPECT_RATIOS, QUALITIES } from './output-size.ts';
import { truncateCodePoints } from './text.ts';

export const MAX_SEED = 2_147_483_647;

export const httpUrl = (maxLength: number, what: string, meta: Record<string, unknown> = {}) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be a ${what} URL string`) })
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .refine(isHttpUrl, { error: 'must be an http:// or https:// URL' })
    .refine(hasWellFormedEscapes, { error: 'has a malformed percent-encoding (% must be followed by two hex digits)' })
    .meta({ format: 'uri', ...meta });

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** False for a URL with a `%` that starts no valid escape (it would break any later decoding). */
export function hasWellFormedEscapes(value: string): boolean {
  return !MALFORMED_ESCAPE.test(value);
}

// x-vidgate-media marks media fields in the JSON Schema, so the console offers a file upload for them.
export const mediaUrl = httpUrl(4096, 'media', { 'x-vidgate-media': true });
export const callbackUrl = httpUrl(2048, 'callback').describe(
  'HTTPS URL that receives the task when it completes, fails or is cancelled',
);

/** Exactly one media URL in an array (the hosted API's `*_urls` fields of length 1). */
export const oneUrlArray = z.array(mediaUrl, { error: 'must be an array of URL strings' }).length(1, { error: 'must hold exactly 1 URL' });

export const intRange = (min: number, max: number) =>
  z.int({ error: `must be an integer from ${min} to ${max}` }).min(min, { error: `must be from ${min} to ${max}` }).max(max, {
    error: `must be from ${min} to ${max}`,
  });

export const seed = intRange(1, MAX_SEED).optional().describe('Random seed; omitted = random (the seed used is stored)');
export const quality = z.enum(QUALITIES, { error: 'must be "720p" or "1080p"' }).default('720p');
export const aspectRatio = z.enum(ASPECT_RATIOS, { error: `must be one of ${ASPECT_RATIOS.join(', ')}` });
export const promptExtend = z.boolean({ error: 'must be true or false' }).default(false);
export const keepOriginalSound = z.boolean({ error: 'must be true or false' }).default(false);

/** A text field truncated (never rejected) to `max` code points. */
export const truncatedText = (max: number) =>
  z.string({ error: 'must be a string' }).transform((text) => truncateCodePoints(text, max));

/** A required prompt: non-blank, truncated to `max` code points. */
export const requiredPrompt = (max: number) =>
  z.string({ error: 'is required and must be a string' }).refine((text) => text.trim() !== '', { error: 'must not be empty' }).transform((text) => truncateCodePoints(text, max));

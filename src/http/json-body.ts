import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { ApiError } from '../contract/errors.ts';

/** No request of the contract nests deeper than a few levels; far deeper is refused before anything walks it. */
export const MAX_JSON_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a JSON body as CONTRACT §8.9 asks: invalid UTF-8 and nesting past MAX_JSON_DEPTH are
 * 400s, and `__proto__` / `constructor.prototype` keys are dropped like any unknown field
 * (never a "malformed JSON" answer, never a polluted prototype).
 */
export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) throw new ApiError('invalid_request', 'request body: empty; send a JSON object');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ApiError('invalid_request', 'request body: not valid UTF-8');
  }
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) throw new ApiError('invalid_request', `request body: nested ${depth} levels deep; at most ${MAX_JSON_DEPTH} are accepted`);
  try {
    return secureJson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch {
    throw new ApiError('invalid_request', 'request body: malformed JSON');
  }
}

/** The deepest bracket nesting of JSON text, strings skipped; a scan, so no input can overflow the stack. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i += 1; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) deepest = Math.max(deepest, (depth += 1));
    else if (c === 93 || c === 125) depth -= 1;
  }
  return deepest;
}

/** Replaces Fastify's JSON parser with parseJsonBody for every route of `app`. */
export function useSafeJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import parser from 'stream-json/parser.js';
import { ApiError, invalidField } from '../contract/errors.ts';
import { formatBytes } from '../contract/media-limits.ts';
import { MAX_JSON_DEPTH } from '../http/json-body.ts';
import { byteCap, TooLargeError } from '../net/guarded-download.ts';

/** What a base64 upload body held: the decoded file (on disk) and the names asked for. */
export type Base64Upload = { bytes: number; fields: Record<string, string> };

const NAME_FIELDS = new Set(['upload_path', 'uploadPath', 'file_name', 'fileName']);
const MAX_NAME = 300;
const DATA_URL = /^data:[^,]{0,200};base64,/i;
const NOT_BASE64 = /[^A-Za-z0-9+/_\-=]/;
const WHITE = /\s+/g;

/**
 * Reads a base64 upload's JSON body as it streams in (CONTRACT §8.4): `base64_data` is decoded
 * to `destination` chunk by chunk, so neither the text nor the file is ever whole in memory and
 * no step blocks the event loop for long; the name fields are kept. Past `maxBytes` decoded it
 * stops with 413. Malformed JSON, nesting past MAX_JSON_DEPTH or a non-string field: 400.
 */
export async function receiveBase64Body(body: Readable, destination: string, maxBytes: number, maxBodyBytes: number): Promise<Base64Upload> {
  const tokens = parser.asStream({ packKeys: true, streamKeys: false, packStrings: false, streamStrings: true, packNumbers: true, streamNumbers: false });
  const file = createWriteStream(destination);
  const decoder = new Base64Decoder(file, maxBytes);
  const fields: Record<string, string> = {};
  // The body's own size is capped too: white space or an unknown field must not stream on forever.
  const capped = byteCap(maxBodyBytes);
  body.pipe(capped);
  const feeding = pipeline(capped, tokens).catch((error: unknown) => (error instanceof TooLargeError ? tooLargeForBase64(maxBytes) : error));
  let depth = 0;
  let key: string | null = null;
  let name: string | null = null; // a name field being read
  let sawData = false;
  try {
    for await (const token of tokens as AsyncIterable<{ name: string; value?: unknown }>) {
      switch (token.name) {
        case 'startObject':
        case 'startArray':
          if (depth === 0 && token.name === 'startArray') throw notAnObject();
          if ((depth += 1) > MAX_JSON_DEPTH) throw new ApiError('invalid_request', `request body: nested more than ${MAX_JSON_DEPTH} levels deep`);
          if (depth === 2 && key !== null && (key === 'base64_data' || NAME_FIELDS.has(key))) throw invalidField(key, 'must be a string');
          break;
        case 'endObject':
        case 'endArray':
          depth -= 1;
          break;
        case 'keyValue':
          if (depth === 1) key = String(token.value);
          break;
        case 'startString':
          if (depth === 0) throw notAnObject();
          if (depth === 1 && key === 'base64_data') sawData = true;
          if (depth === 1 && key !== null && NAME_FIELDS.has(key)) name = '';
          break;
        case 'stringChunk': {
          const text = String(token.value);
          if (depth === 1 && key === 'base64_data') await decoder.write(text);
          else if (name !== null && (name += text).length > MAX_NAME) throw invalidField(key!, `must be at most ${MAX_NAME} characters`);
          break;
        }
        case 'endString':
          if (name !== null) fields[key!] = name;
          name = null;
          break;
        case 'numberValue':
        case 'nullValue':
        case 'trueValue':
        case 'falseValue':
          if (depth === 0) throw notAnObject();
          if (depth === 1 && key !== null && (key === 'base64_data' || NAME_FIELDS.has(key))) throw invalidField(key, 'must be a string');
      }
    }
    const failed = await feeding;
    if (failed) throw failed instanceof ApiError ? failed : new ApiError('invalid_request', 'request body: malformed JSON');
    if (!sawData) throw invalidField('base64_data', 'is required: the file as base64, or as a data:…;base64, URL');
    const bytes = await decoder.end();
    if (bytes === 0) throw invalidField('base64_data', 'is not base64 (plain, or a data:…;base64, URL)');
    return { bytes, fields };
  } catch (error) {
    body.unpipe(capped);
    body.resume(); // the rest is read and dropped, so the error answer still reaches the client
    capped.destroy();
    file.destroy();
    // The tokenizer's errors are the body's fault; a disk error is ours and stays a 500.
    throw error instanceof ApiError || error === decoder.fileError ? error : new ApiError('invalid_request', 'request body: malformed JSON');
  }
}

function notAnObject(): ApiError {
  return new ApiError('invalid_request', 'request body: must be a JSON object with a "base64_data" field');
}

/** Decodes base64 text arriving in pieces (a data-URL prefix, white space and `\/` escapes allowed) into a file. */
class Base64Decoder {
  private readonly file: WriteStream;
  private readonly maxBytes: number;
  private head = ''; // the first characters, until we know whether they are a data-URL prefix
  private started = false;
  private carry = '';
  private bytes = 0;

  private failure: Error | null = null;

  /** The error writing the file hit, if any. */
  get fileError(): Error | null {
    return this.failure;
  }

  constructor(file: WriteStream, maxBytes: number) {
    this.file = file;
    this.maxBytes = maxBytes;
    file.on('error', (error) => (this.failure = error)); // surfaced by the next write or end
  }

  async write(text: string): Promise<void> {
    if (!this.started) {
      this.head += text;
      if (this.head.length < 220 && !this.head.includes(',') && /^data:/i.test(this.head)) return;
      this.started = true;
      text = this.head.replace(DATA_URL, '');
      this.head = '';
    }
    const clean = this.carry + text.replace(WHITE, '');
    if (NOT_BASE64.test(clean)) throw invalidField('base64_data', 'is not base64 (plain, or a data:…;base64, URL)');
    const whole = clean.length - (clean.length % 4);
    this.carry = clean.slice(whole);
    await this.emit(Buffer.from(clean.slice(0, whole), 'base64'));
  }

  /** Decodes what is left and closes the file; the decoded size. */
  async end(): Promise<number> {
    if (!this.started) await this.write('');
    if (this.carry) await this.emit(Buffer.from(this.carry, 'base64'));
    this.file.end();
    await once(this.file, 'close');
    if (this.failure) throw this.failure;
    return this.bytes;
  }

  private async emit(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if ((this.bytes += chunk.length) > this.maxBytes) throw tooLargeForBase64(this.maxBytes);
    if (chunk.length > 0 && !this.file.write(chunk)) await once(this.file, 'drain');
  }
}

/** The largest body a base64 upload of `maxBytes` needs: 4/3 of the file, a little more for line breaks and names. */
export function base64BodyLimit(maxBytes: number): number {
  return Math.ceil(maxBytes * 1.36) + 64 * 1024;
}

/** 413 for a base64 upload over its cap, pointing to the multipart upload. */
export function tooLargeForBase64(maxBytes: number): ApiError {
  return new ApiError('request_too_large', `base64_data: the file is larger than the ${formatBytes(maxBytes)} a base64 upload may carry; send it to /api/v1/files/upload/stream as multipart/form-data`, {
    param: 'base64_data',
  });
}

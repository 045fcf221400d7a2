import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { AddressPolicy, type AddressDecision } from '../../src/net/address-policy.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** Refuses every address, so no generated URL can open a socket anywhere. */
class RefuseAll extends AddressPolicy {
  override decide(): AddressDecision {
    return { allowed: false, reason: 'refused in the fuzz test' };
  }
}

const MODELS = ['wan2.7-text-to-video', 'wan2.7-image-to-video', 'wan2.7-video-edit', 'happyhorse-1.0-video-edit'];
const FIELDS = [
  'model', 'prompt', 'negative_prompt', 'audio_urls', 'audio_url', 'aspect_ratio', 'duration', 'prompt_extend', 'quality', 'seed',
  'callback_url', 'generation_mode', 'image_start', 'image_end', 'video_urls', 'video_url', 'video', 'image_urls', 'keep_original_sound',
];
// Only names that resolve nowhere and refused literals: URLs are never reachable.
const URLS = ['http://media.invalid/a.png', 'https://127.0.0.1/x.mp4', 'http://[::1]/a', 'http://0/', 'ftp://x/y', 'http://', 'javascript:alert(1)', 'https://10.0.0.1/v.mp4'];

const fieldValue = fc.oneof(
  fc.constantFrom(...MODELS, ...URLS, '16:9', '1:1', '720p', '1080p', 'first_frame', 'first_last_frame', 'video_continuation', '', '雪', '😀'),
  fc.array(fc.constantFrom(...URLS), { maxLength: 6 }),
  fc.integer({ min: -5, max: 20 }),
  fc.constantFrom(0, -0, 2147483647, 2147483648, 1e308, -1e-9, 2.5, Number.MAX_SAFE_INTEGER + 2),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const structuredBody = fc.dictionary(fc.constantFrom(...FIELDS), fieldValue, { maxKeys: 8 }).map((body) => ({ ...body }));
const modelBody = fc.record({ model: fc.constantFrom(...MODELS) }).chain((base) => structuredBody.map((rest) => ({ ...rest, ...base })));

describe('random and malformed bodies never produce a 5xx', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ VIDGATE_MEDIA_DEADLINE: '2s' }, { addressPolicy: new RefuseAll() });
  });
  after(() => server.close());

  /** Sends `payload` and checks the answer: never a 5xx, and every error in the §1 shape. */
  async function send(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: string | Buffer, contentType = 'application/json') {
    const res = await server.app.http.inject({
      method,
      url,
      headers: { authorization: `Bearer ${server.key}`, ...(payload === undefined ? {} : { 'content-type': contentType }) },
      payload,
    });
    const shown = String(payload ?? '').slice(0, 300);
    assert.ok(res.statusCode < 500, `${res.statusCode} for ${method} ${url} ${shown}: ${res.body}`);
    const body = res.json();
    if (res.statusCode >= 400) {
      assert.deepEqual(Object.keys(body), ['error'], res.body);
      for (const key of ['code', 'message', 'type'] as const) assert.equal(typeof body.error[key], 'string', res.body);
    }
    return { status: res.statusCode, body };
  }

  async function post(payload: string, contentType = 'application/json') {
    const { status, body } = await send('POST', '/v1/videos/generations', payload, contentType);
    if (status === 200) assert.match(body.id, /^task-unified-/);
    return status;
  }

  it('model-shaped bodies (2000 runs)', async () => {
    await fc.assert(fc.asyncProperty(modelBody, async (body) => void (await post(JSON.stringify(body)))), { numRuns: 2000 });
  });
  it('any field mix (1000 runs)', async () => {
    await fc.assert(fc.asyncProperty(structuredBody, async (body) => void (await post(JSON.stringify(body)))), { numRuns: 1000 });
  });
  it('arbitrary JSON values (1000 runs)', async () => {
    await fc.assert(fc.asyncProperty(fc.jsonValue(), async (value) => void (await post(JSON.stringify(value)))), { numRuns: 1000 });
  });
  it('malformed text (1000 runs)', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (text) => void (await post(text))), { numRuns: 1000 });
  });
  it('arbitrary bytes as a JSON body, on create and the files routes (1500 runs)', async () => {
    const routes = ['/v1/videos/generations', '/api/v1/files/upload/base64', '/api/v1/files/upload/url'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.uint8Array({ maxLength: 300 }), async (route, bytes) => void (await send('POST', route, Buffer.from(bytes)))),
      { numRuns: 1500 },
    );
  });
  it('arbitrary JSON on the files routes (1000 runs)', async () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...URLS), fc.base64String({ maxLength: 200 }), fc.constant('data:image/png;base64,iVBORw0K'));
    const body = fc.dictionary(fc.constantFrom('base64_data', 'file_url', 'upload_path', 'uploadPath', 'file_name', 'fileName', '__proto__', 'constructor'), field, { maxKeys: 5 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/v1/files/upload/base64', '/api/v1/files/upload/url'), body, async (route, value) => void (await send('POST', route, JSON.stringify(value)))),
      { numRuns: 1000 },
    );
  });
  it('arbitrary bytes as a multipart upload (500 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('multipart/form-data; boundary=x', 'multipart/form-data', 'multipart/form-data; boundary='), async (bytes, type) => {
        const framed = Buffer.concat([Buffer.from('--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'), Buffer.from(bytes), Buffer.from('\r\n--x--\r\n')]);
        await send('POST', '/api/v1/files/upload/stream', bytes.length % 2 ? framed : Buffer.from(bytes), type);
      }),
      { numRuns: 500 },
    );
  });
  it('deeply nested JSON in any field (200 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIELDS), fc.integer({ min: 1, max: 5000 }), fc.constantFrom('[', '{"a":'), async (field, depth, open) => {
        const close = open === '[' ? ']' : '}';
        await post(`{"model":"wan2.7-text-to-video","${field}":${open.repeat(depth)}1${close.repeat(depth)}}`);
      }),
      { numRuns: 200 },
    );
  });
  it('random queries on the task list and random cancels (1000 runs)', async () => {
    const query = fc.dictionary(fc.constantFrom('limit', 'before', 'status', 'x'), fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String)), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(query, fc.string({ maxLength: 60 }), async (params, id) => {
        await send('GET', `/v1/tasks?${new URLSearchParams(params)}`);
        const cancel = await send('DELETE', `/v1/tasks/${encodeURIComponent(id)}`);
        assert.ok([400, 404].includes(cancel.status), `${cancel.status} for DELETE ${id}`);
      }),
      { numRuns: 1000 },
    );
  });
  it('random task ids on get (500 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), async (id) => {
        const res = await server.app.http.inject({ method: 'GET', url: `/v1/tasks/${encodeURIComponent(id)}`, headers: { authorization: `Bearer ${server.key}` } });
        assert.ok([400, 404].includes(res.statusCode), `${res.statusCode} for ${id}`);
      }),
      { numRuns: 500 },
    );
  });
});

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

  async function post(payload: string, contentType = 'application/json') {
    const res = await server.app.http.inject({
      method: 'POST',
      url: '/v1/videos/generations',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': contentType },
      payload,
    });
    assert.ok(res.statusCode < 500, `${res.statusCode} for ${payload.slice(0, 300)}: ${res.body}`);
    const body = res.json();
    if (res.statusCode === 200) assert.match(body.id, /^task-unified-/);
    else assert.equal(typeof body.error.code, 'string', res.body);
    return res.statusCode;
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

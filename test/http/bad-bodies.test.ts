import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nestingDepth } from '../../src/http/json-body.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const T2V = { model: 'wan2.7-text-to-video', prompt: 'a lighthouse at dusk' };

describe('bad bodies (CONTRACT §8.9)', () => {
  let server: TestServer;
  let media: MediaServer;
  before(async () => {
    media = await startMediaServer(fixturesDir(), '127.0.0.2');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32' });
  });
  after(async () => {
    await server.close();
    await media.close();
  });

  async function post(url: string, payload: string | Buffer) {
    const res = await server.app.http.inject({ method: 'POST', url, headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' }, payload });
    return { status: res.statusCode, body: res.json() };
  }

  it('measures nesting without walking a value, strings skipped', () => {
    assert.equal(nestingDepth('{"a":[1,{"b":"[[[["}]}'), 3);
    assert.equal(nestingDepth('"\\"[["'), 0);
    assert.equal(nestingDepth('['.repeat(500_000)), 500_000);
  });

  it('answers 400 for 400k nested arrays, in a field and as the whole body', async () => {
    const deep = '['.repeat(400_000) + ']'.repeat(400_000);
    for (const payload of [deep, `{"model":"wan2.7-text-to-video","prompt":${deep}}`]) {
      const res = await post('/v1/videos/generations', payload);
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /^request body: nested 40000\d levels deep; at most 32/);
    }
    // Just deep enough to be refused by the schema, not the parser: the answer names the field without serializing it.
    const res = await post('/v1/videos/generations', JSON.stringify({ ...T2V, prompt: JSON.parse('['.repeat(30) + ']'.repeat(30)) }));
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /^prompt: .*\(got an array of 1\)$/);
  });

  it('ignores __proto__, constructor and prototype keys like any unknown field', async () => {
    const payload = `{"model":"wan2.7-text-to-video","prompt":"x","__proto__":{"duration":15,"polluted":1},"constructor":{"prototype":{"polluted":1}}}`;
    const res = await post('/v1/videos/generations', payload);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.task_info.video_duration, 5); // the default, not the __proto__'s 15
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('answers 400 for invalid UTF-8', async () => {
    const payload = Buffer.concat([Buffer.from('{"model":"wan2.7-text-to-video","prompt":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const res = await post('/v1/videos/generations', payload);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.message, 'request body: not valid UTF-8');
  });

  it('answers 400 naming the field for huge numbers', async () => {
    for (const [field, value] of [['duration', '1e400'], ['seed', '99999999999999999999999']]) {
      const res = await post('/v1/videos/generations', `{"model":"wan2.7-text-to-video","prompt":"x","${field}":${value}}`);
      assert.equal(res.status, 400, `${field}=${value}`);
      assert.equal(res.body.error.param, field);
    }
  });

  it('refuses a URL with malformed percent-encoding before fetching it, leaving no file behind', async () => {
    const before = media.hits.length;
    const upload = await post('/api/v1/files/upload/url', JSON.stringify({ file_url: media.url('image-640x360.png%zz') }));
    assert.equal(upload.status, 400);
    assert.match(upload.body.error.message, /^file_url: has a malformed percent-encoding/);
    const task = await post('/v1/videos/generations', JSON.stringify({ model: 'wan2.7-image-to-video', prompt: 'x', image_start: media.url('a%2.png') }));
    assert.equal(task.status, 400);
    assert.equal(task.body.error.param, 'image_start');
    assert.equal(media.hits.length, before);
    const stored = path.join(server.dataDir, 'files');
    assert.deepEqual(readdirSafe(stored).filter((name) => !name.startsWith('.')), []);
  });

  it('reads a base64 upload as it streams, refusing a wrong shape naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['{"base64_data":42}', /^base64_data: must be a string$/],
      ['{"base64_data":["aGk="]}', /^base64_data: must be a string$/],
      ['["aGk="]', /^request body: must be a JSON object/],
      ['{"file_name":"x.png"}', /^base64_data: is required/],
      ['{"base64_data":"%%%%"}', /^base64_data: is not base64/],
      ['{"base64_data":"aGk=", "file_name": {"a":1}}', /^file_name: must be a string$/],
      ['{"base64_data":"aGk="', /^request body: malformed JSON$/],
      [`{"x":${'['.repeat(100)}${']'.repeat(100)},"base64_data":"aGk="}`, /^request body: nested more than 32 levels deep$/],
    ];
    for (const [payload, message] of cases) {
      const res = await post('/api/v1/files/upload/base64', payload);
      assert.equal(res.status, 400, payload.slice(0, 60));
      assert.match(res.body.error.message, message, payload.slice(0, 60));
    }
    // Base64 with line breaks and an escaped slash, as JSON encoders write it: decoded whole (a tiny PNG's bytes).
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEAG7buVgAAAABJRU5ErkJggg==', 'base64');
    const wrapped = png.toString('base64').replace(/(.{20})/g, '$1\\n').replace(/\//g, '\\/');
    const ok = await post('/api/v1/files/upload/base64', `{"base64_data":"data:image/png;base64,${wrapped}","file_name":"dot.png"}`);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.data.file_size, png.length);
  });

  it('keeps a well-formed escape in an uploaded URL and decodes the name', async () => {
    const res = await post('/api/v1/files/upload/url', JSON.stringify({ file_url: `${media.origin}/image-640x360%2Epng` }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.original_name, 'image-640x360.png');
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }).map(String).filter((name) => !name.includes('.part'));
  } catch {
    return [];
  }
}

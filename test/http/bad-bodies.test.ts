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

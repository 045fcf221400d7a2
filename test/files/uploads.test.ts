import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { UploadedFiles } from '../../src/files/storage.ts';
import { ResultFiles } from '../../src/media/results.ts';
import { openObjectStore } from '../../src/storage/index.ts';
import { Sweeper } from '../../src/media/sweeper.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { STORE_KINDS } from '../helpers/store.ts';

/** A multipart body with `parts` in order: [name, value] fields, or [name, { file, filename, type }] files. */
function form(parts: [string, string | { file: string; filename: string }][]): FormData {
  const body = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') body.append(name, value);
    else body.append(name, new Blob([readFileSync(value.file)]), value.filename);
  }
  return body;
}

for (const kind of STORE_KINDS) describe(`Files API (${kind})`, () => {
  let server: TestServer;
  let media: MediaServer;
  let refused: MediaServer;
  const fixtures = fixturesDir();
  const fixture = (name: string) => path.join(fixtures, name);
  let now = Date.now();
  const clock = { now: () => now };

  async function upload(body: FormData, key = server.key) {
    const res = await fetch(`${server.baseUrl}/api/v1/files/upload/stream`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  }

  before(async () => {
    media = await startMediaServer(fixtures, '127.0.0.2');
    refused = await startMediaServer(fixtures, '127.0.0.1');
    server = await startTestServer({ VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_MEDIA_DEADLINE: '3s', VIDGATE_FILE_MAX_BYTES: String(5 * 1024 * 1024), VIDGATE_FILE_BASE64_MAX_BYTES: '1MiB' }, { clock, store: kind });
  });
  after(async () => {
    await server.close();
    await media.close();
    await refused.close();
  });

  it('stores a multipart file, with name fields after it, and serves it at file_url and download_url', async () => {
    const res = await upload(form([['file', { file: fixture('image-640x360.png'), filename: 'holiday photo.png' }], ['upload_path', 'trips/2026'], ['file_name', 'beach.png']]));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { data } = res.body;
    assert.deepEqual([res.body.success, res.body.code, res.body.msg], [true, 200, 'File uploaded successfully']);
    assert.match(data.file_id, /^file_[a-z0-9]{24}$/);
    assert.equal(data.file_name, 'beach.png');
    assert.equal(data.original_name, 'beach.png');
    assert.equal(data.upload_path, 'trips/2026');
    assert.equal(data.mime_type, 'image/png');
    assert.equal(data.file_size, readFileSync(fixture('image-640x360.png')).length);
    assert.equal(data.file_url, `${server.baseUrl}/files/${data.file_id}/beach.png`);
    assert.equal(Date.parse(data.expires_at) - Date.parse(data.upload_time), 72 * 3_600_000);

    const served = await fetch(data.file_url); // no key: models and upstreams fetch it
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/png');
    assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), readFileSync(fixture('image-640x360.png')));
    const ranged = await fetch(data.file_url, { headers: { range: 'bytes=0-3' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const download = await fetch(data.download_url);
    assert.equal(download.headers.get('content-disposition'), 'attachment; filename="beach.png"');
    assert.equal((await fetch(data.file_url.replace('beach.png', 'other.png'))).status, 404);
  });

  it('takes the multipart file name when none is asked for, and files it by kind', async () => {
    const res = await upload(form([['file', { file: fixture('clip-4s-480x640.mov'), filename: '../../etc/My Clip!.mov' }]]));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.file_name, 'My-Clip-.mov');
    assert.equal(res.body.data.original_name, 'My Clip!.mov', 'the client\'s folders are dropped');
    assert.equal(res.body.data.upload_path, 'videos');
    assert.equal(res.body.data.mime_type, 'video/quicktime');
  });

  it('stores base64, plain and as a data URL, sniffing the type whatever the data URL says', async () => {
    const png = readFileSync(fixture('image-640x360.png')).toString('base64');
    for (const base64_data of [png, `data:image/jpeg;base64,${png}`]) {
      const res = await server.call('POST', '/api/v1/files/upload/base64', { body: { base64_data, fileName: 'a.jpg', uploadPath: 'avatars' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([res.body.data.mime_type, res.body.data.file_name, res.body.data.upload_path], ['image/png', 'a.png', 'avatars']);
    }
  });

  it('fetches a URL upload through the outbound guard', async () => {
    const ok = await server.call('POST', '/api/v1/files/upload/url', { body: { file_url: media.url('audio-4s.mp3') } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.data.mime_type, ok.body.data.original_name, ok.body.data.upload_path], ['audio/mpeg', 'audio-4s.mp3', 'audio']);
    for (const file_url of [refused.url('audio-4s.mp3'), `${media.origin}/redirect?to=${encodeURIComponent(refused.url('audio-4s.mp3'))}`]) {
      const res = await server.call('POST', '/api/v1/files/upload/url', { body: { file_url } });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.error.message, /^file_url: could not be fetched: .*(not allowed|private|loopback|refused)/i);
    }
    assert.equal(refused.hits.length, 0, 'nothing reached the refused server');
  });

  it('refuses what it cannot store, naming the field, and leaves no file behind', async () => {
    const before = readdirSync(path.join(server.app.settings.storage_dir, 'files')).length;
    const cases: [Promise<{ status: number; body: any }>, number, RegExp][] = [
      [upload(form([['file', { file: fixture('not-media.txt'), filename: 'a.txt' }]])), 400, /^file: unsupported file type; upload JPEG/],
      [upload(form([['file', { file: fixture('audio-3s.ogg'), filename: 'a.ogg' }]])), 400, /^file: unsupported file type/],
      [upload(form([['file', { file: fixture('random-21MB.bin'), filename: 'big.png' }]])), 413, /^file: the file is larger than the 5 MB limit/],
      [upload(form([['upload_path', '../up'], ['file', { file: fixture('image-640x360.png'), filename: 'a.png' }]])), 400, /^upload_path: must be/],
      [upload(form([['image', { file: fixture('image-640x360.png'), filename: 'a.png' }]])), 400, /^file: send the file in the "file" field/],
      [upload(form([['upload_path', 'x']])), 400, /^file: missing/],
      [server.call('POST', '/api/v1/files/upload/base64', { body: { base64_data: 'not base64 at all!' } }), 400, /^base64_data: is not base64/],
      [server.call('POST', '/api/v1/files/upload/base64', { body: {} }), 400, /^base64_data: /],
      [server.call('POST', '/api/v1/files/upload/url', { body: { file_url: 'ftp://example.test/a.png' } }), 400, /^file_url: /],
      [server.call('POST', '/api/v1/files/upload/stream', { body: { file: 'x' } }), 400, /^Content-Type: must be multipart\/form-data/],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.body.error.message, message);
    }
    const two = form([['file', { file: fixture('image-640x360.png'), filename: 'a.png' }], ['file', { file: fixture('image-640x360.png'), filename: 'b.png' }]]);
    const res = await upload(two);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error.message, /^file: send one file per request/);
    assert.equal(readdirSync(path.join(server.app.settings.storage_dir, 'files')).length, before, 'no partial or stored file left');
  });

  it('needs a key', async () => {
    const res = await upload(form([['file', { file: fixture('image-640x360.png'), filename: 'a.png' }]]), 'sk-evo-unknown');
    assert.equal(res.status, 401);
    assert.equal((await server.call('GET', '/api/v1/files/quota', { key: null })).status, 401);
  });

  it("keeps each user within its file quota, answering 429 with when a file frees up", async () => {
    const key = await server.newKey({ user: 'quota-user' });
    const quota = async () => (await server.call('GET', '/api/v1/files/quota', { key })).body.data;
    const defaultBytes = 10 * 1024 ** 3;
    assert.deepEqual(await quota(), {
      user_group: 'default', used_files: 0, max_files: 2000, remain_files: 2000, is_custom: false, quota_reason: '', used_bytes: 0, max_bytes: defaultBytes, remain_bytes: defaultBytes,
    });
    await server.app.db.updateTable('users').set({ max_files: 2, max_files_reason: 'trial' }).where('name', '=', 'quota-user').execute();
    const png = readFileSync(fixture('image-640x360.png')).toString('base64');
    const results = await Promise.all([1, 2, 3, 4].map(() => server.call('POST', '/api/v1/files/upload/base64', { body: { base64_data: png }, key })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 429, 429], 'concurrent uploads cannot overfill the quota');
    const refusedUpload = results.find((r) => r.status === 429)!;
    assert.equal(refusedUpload.body.error.code, 'quota_exceeded');
    assert.match(refusedUpload.body.error.message, /^file: this user keeps 2 of 2 files/);
    assert.ok(Number(refusedUpload.headers.get('retry-after')) > 71 * 3600);
    const size = readFileSync(fixture('image-640x360.png')).length;
    assert.deepEqual(await quota(), {
      user_group: 'default', used_files: 2, max_files: 2, remain_files: 0, is_custom: true, quota_reason: 'trial',
      used_bytes: 2 * size, max_bytes: defaultBytes, remain_bytes: defaultBytes - 2 * size,
    });
    const stream = await upload(form([['file', { file: fixture('random-21MB.bin'), filename: 'big.png' }]]), key);
    assert.equal(stream.status, 429, 'a full user is refused before the file is read');
  });

  it('keeps each user within its byte quota too, under the same lock (CONTRACT §8.4)', async () => {
    const key = await server.newKey({ user: 'bytes-user' });
    const png = readFileSync(fixture('image-640x360.png'));
    // Room for two of these files, not three.
    await server.app.db.updateTable('users').set({ max_file_bytes: 2 * png.length + 10 }).where('name', '=', 'bytes-user').execute();
    const results = await Promise.all([1, 2, 3, 4].map(() => server.call('POST', '/api/v1/files/upload/base64', { body: { base64_data: png.toString('base64') }, key })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 429, 429], 'concurrent uploads cannot overfill the byte quota');
    const refused = results.find((r) => r.status === 429)!;
    assert.match(refused.body.error.message, /^file: this user keeps .* of .*, too little for .* more; files expire 72 h after upload$/);
    const quota = (await server.call('GET', '/api/v1/files/quota', { key })).body.data;
    assert.deepEqual([quota.used_bytes, quota.remain_bytes, quota.is_custom], [2 * png.length, 10, true]);
  });

  it('caps base64 uploads at VIDGATE_FILE_BASE64_MAX_BYTES, pointing to the multipart upload (CONTRACT §8.4)', async () => {
    // The test server allows 1 MiB of base64: just over it decoded, and far over it as a body.
    for (const bytes of [1024 * 1024 + 4096, 3 * 1024 * 1024]) {
      const res = await server.call('POST', '/api/v1/files/upload/base64', { body: { base64_data: Buffer.alloc(bytes, 1).toString('base64') } });
      assert.equal(res.status, 413, String(bytes));
      assert.equal(res.body.error.code, 'request_too_large');
      assert.match(res.body.error.message, /^base64_data: .*larger than the 1 MB a base64 upload may carry; send .*to \/api\/v1\/files\/upload\/stream as multipart\/form-data$/);
    }
  });

  it('lets every model read an uploaded file by its file_url, and refuses an expired one', async () => {
    const image = await upload(form([['file', { file: fixture('image-640x360.png'), filename: 'start.png' }]]));
    const clip = await upload(form([['file', { file: fixture('clip-5s-640x360.mp4'), filename: 'in.mp4' }]]));
    const i2v = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-image-to-video', image_start: image.body.data.file_url } });
    assert.equal(i2v.status, 200, JSON.stringify(i2v.body));
    const edit = await server.call('POST', '/v1/videos/generations', { body: { model: 'happyhorse-1.0-video-edit', prompt: 'rain', video_url: clip.body.data.file_url } });
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    const input = await server.app.db.selectFrom('task_inputs').selectAll().where('task_id', '=', edit.body.id).executeTakeFirstOrThrow();
    assert.deepEqual([input.container, input.width, input.height, input.url], ['mp4', 640, 360, clip.body.data.file_url]);
    assert.ok(existsSync(path.join(server.app.settings.storage_dir, input.path)));

    now += 72 * 3_600_000;
    assert.equal((await fetch(image.body.data.file_url)).status, 404);
    const late = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-image-to-video', image_start: image.body.data.file_url } });
    assert.equal(late.status, 400);
    assert.match(late.body.error.message, /^image_start: names an uploaded file that has expired/);
    const stored = path.join(server.app.settings.storage_dir, 'files', `${image.body.data.file_id}.png`);
    assert.ok(existsSync(stored));
    const { settings } = server.app;
    const objects = openObjectStore(settings.storage);
    const sweeper = new Sweeper({
      store: server.app.store, clock, results: new ResultFiles(objects, { publicUrl: settings.public_url }), uploads: new UploadedFiles(objects),
      objects, resultTtlMs: settings.result_ttl, orphanAgeMs: 60_000, intervalMs: 60_000, logger: pino({ level: 'silent' }),
    });
    assert.ok((await sweeper.sweep()) >= 2);
    assert.ok(!existsSync(stored), 'the sweeper removed the expired upload');
    assert.ok(existsSync(path.join(server.app.settings.storage_dir, input.path)), "a task's input outlives the upload it came from");
    now -= 72 * 3_600_000;
  });
});

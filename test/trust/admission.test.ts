import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileObjectStore } from '../../src/storage/file-store.ts';
import { ingestMedia } from '../../src/media/ingest.ts';
import { readMediaHeader } from '../../src/media/header.ts';
import { ProbeError, runFfprobe } from '../../src/media/probe.ts';
import { cappedCommand } from '../../src/media/caps.ts';
import { WAN_IMAGE } from '../../src/contract/media-limits.ts';
import { AddressPolicy } from '../../src/net/address-policy.ts';
import { OutboundGuard } from '../../src/net/outbound-guard.ts';
import { Slots } from '../../src/util/slots.ts';
import { fixturesDir } from '../helpers/fixtures.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { pngBomb } from '../helpers/png-bomb.ts';
import { tableResolver } from '../helpers/resolver.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('admission before work, bounded media work (CONTRACT §8.1, §8.2)', () => {
  let server: TestServer;
  let media: MediaServer;
  let bomb: string;
  const lookups: string[] = [];
  const fixtures = fixturesDir();
  before(async () => {
    bomb = await pngBomb(fixtures);
    media = await startMediaServer(fixtures, '127.0.0.2');
    const resolve = tableResolver({ 'hooks.test': ['93.184.216.34'] });
    server = await startTestServer(
      { VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_MEDIA_DEADLINE: '5s' },
      { resolver: (host) => (lookups.push(host), resolve(host)) },
    );
  });
  after(async () => {
    await server.close();
    await media.close();
  });

  it('answers a zero-balance key 402 before any outbound request: no media fetched, no callback host resolved', async () => {
    const broke = await server.newKey({ user: 'broke', userCredits: 0 });
    const hitsBefore = media.hits.length;
    const body = {
      model: 'happyhorse-1.0-video-edit', prompt: 'x', video_urls: [media.url('clip-5s-640x360.mp4')],
      image_urls: [media.url('image-640x360.png'), media.url('image-800x600.webp')], callback_url: 'https://hooks.test/cb',
    };
    const res = await server.call('POST', '/v1/videos/generations', { body, key: broke });
    assert.equal(res.status, 402);
    assert.match(res.body.error.message, /^credits: this task needs at least 17\.9 credits and the balance is 0 credits/);
    assert.equal(media.hits.length, hitsBefore, 'no medium was fetched');
    assert.deepEqual(lookups, [], 'the callback host was not resolved');
  });

  it('answers 402 with the exact quote for a request without media, and 429 at the unfinished-task limit, both before work', async () => {
    const poor = await server.newKey({ user: 'poor', userCredits: 10_000_000 });
    const t2v = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'x', duration: 2 }, key: poor });
    assert.equal(t2v.status, 402);
    assert.match(t2v.body.error.message, /^credits: this task needs 17\.2 credits and the balance is 10 credits/);
    const busy = await server.newKey({ user: 'busy', userCredits: 1_000_000_000, maxUnfinished: 1 });
    assert.equal((await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'x' }, key: busy })).status, 200);
    const hitsBefore = media.hits.length;
    const second = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-image-to-video', image_start: media.url('image-640x360.png') }, key: busy });
    assert.equal(second.status, 429);
    assert.equal(media.hits.length, hitsBefore);
  });

  it('refuses a PNG bomb from its header, naming the field, without decoding it', async () => {
    assert.deepEqual(await readMediaHeader(bomb), { container: 'png', name: 'png', width: 16000, height: 16000 });
    const res = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-image-to-video', image_start: media.url(path.basename(bomb)) } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.message, 'image_start: size 16000×16000 is outside the allowed width and height of 240–8000 px');
    const horse = await server.call('POST', '/v1/videos/generations', {
      body: { model: 'happyhorse-1.0-video-edit', prompt: 'x', video_urls: [media.url('clip-5s-640x360.mp4')], image_urls: [media.url(path.basename(bomb))] },
    });
    assert.equal(horse.status, 400);
    assert.equal(horse.body.error.message, 'image_urls[0]: size 16000×16000 is over the 64-megapixel limit');
  });

  it('refuses a format the field does not take from its header', async () => {
    const res = await server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-image-to-video', image_start: media.url('clip-5s-640x360.mp4') } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.message, 'image_start: format MP4 is not accepted; use JPEG, PNG, BMP, WEBP');
  });

  it('runs ffprobe under the memory cap: too little address space and it fails, as a hostile file would', async () => {
    const file = path.join(fixtures, 'image-640x360.png');
    await runFfprobe('ffprobe', file, { caps: { memoryBytes: 1024 ** 3 } });
    await assert.rejects(runFfprobe('ffprobe', file, { caps: { memoryBytes: 64 * 1024 ** 2 } }), ProbeError);
  });

  it('runs media children at the nice value their caps name, and at the server\'s own without one', () => {
    // /proc/self/stat of the child itself: its 19th field is its nice value.
    const niceOf = (caps: { memoryBytes: number; niceness?: number }) => {
      const [command, args, options] = cappedCommand('cat', ['/proc/self/stat'], caps);
      const stat = execFileSync(command, args, { ...options, encoding: 'utf8' });
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    assert.equal(niceOf({ memoryBytes: 0, niceness: 7 }), 7);
    assert.equal(niceOf({ memoryBytes: 1024 ** 3, niceness: 10 }), 10);
    assert.equal(niceOf({ memoryBytes: 0 }), 0);
  });

  it('stops the other downloads of a request as soon as one medium fails', async () => {
    const started = Date.now();
    const res = await server.call('POST', '/v1/videos/generations', {
      body: { model: 'wan2.7-image-to-video', image_start: `${media.origin}/hang`, image_end: `${media.origin}/status/404` },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.param, 'image_end');
    await media.hangsClosed(1); // the hanging download was aborted, not left to its deadline
    assert.ok(Date.now() - started < 5000, 'answered before the 5 s media deadline');
  });

  it('answers 503 with Retry-After when no ingest slot frees up within the media deadline, and leaves no files', async () => {
    const storage = mkdtempSync(path.join(tmpdir(), 'vidgate-ingest-'));
    const objects = new FileObjectStore(storage);
    const slots = new Slots(1);
    assert.equal(await slots.acquire(new AbortController().signal), true); // another request holds the only slot
    const guard = new OutboundGuard(new AddressPolicy(['127.0.0.2/32']), tableResolver());
    const deps = { guard, ffprobePath: 'ffprobe', objects, deadlineMs: 300, slots, caps: { memoryBytes: 0 } };
    await assert.rejects(ingestMedia(deps, 'task-unified-1-aaaaaaaa', [{ field: 'image_start', url: media.url('image-640x360.png'), limits: WAN_IMAGE }]), (error: any) => {
      assert.equal(error.code, 'service_unavailable');
      assert.equal(error.headers['retry-after'], '1');
      return true;
    });
    assert.deepEqual(readdirSync(storage, { recursive: true }).filter((name) => !/^\.scratch(\/ingest)?$/.test(String(name))), [], 'no input stored, no scratch left');
    slots.release();
    // The freed slot is taken; a deadline this run cannot reach keeps the check about the slot, not the machine's speed.
    const [medium] = await ingestMedia({ ...deps, deadlineMs: 60_000 }, 'task-unified-1-bbbbbbbb', [{ field: 'image_start', url: media.url('image-640x360.png'), limits: WAN_IMAGE }]);
    assert.equal(medium.info.width, 640);
    await guard.close();
    rmSync(storage, { recursive: true, force: true });
  });

  it('names a probe stopped by the media deadline as late, not as an unreadable file', async () => {
    const storage = mkdtempSync(path.join(tmpdir(), 'vidgate-ingest-'));
    const hangingProbe = path.join(storage, 'ffprobe-that-hangs');
    writeFileSync(hangingProbe, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    const guard = new OutboundGuard(new AddressPolicy([]), tableResolver());
    const deps = { guard, ffprobePath: hangingProbe, objects: new FileObjectStore(storage), deadlineMs: 1000, slots: new Slots(1), caps: { memoryBytes: 0 } };
    const inline = readFileSync(path.join(fixtures, 'image-640x360.png')).toString('base64');
    await assert.rejects(ingestMedia(deps, 'task-unified-1-cccccccc', [{ field: 'image_start', url: 'data:', inline, limits: WAN_IMAGE }]), (error: any) => {
      assert.equal(error.param, 'image_start');
      assert.match(error.message, /^image_start: could not be fetched( and probed)? within 1 s$/);
      return true;
    });
    await assert.rejects(runFfprobe(hangingProbe, hangingProbe, { signal: AbortSignal.abort() }), (error: unknown) => !(error instanceof ProbeError));
    await guard.close();
    rmSync(storage, { recursive: true, force: true });
  });
});

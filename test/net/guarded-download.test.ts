import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AddressPolicy } from '../../src/net/address-policy.ts';
import { downloadToFile, TooLargeError } from '../../src/net/guarded-download.ts';
import { OutboundGuard } from '../../src/net/outbound-guard.ts';
import { startMediaServer, type MediaServer } from '../helpers/media-server.ts';
import { tableResolver } from '../helpers/resolver.ts';

// Real sockets, loopback only: an allowed server on 127.0.0.2, a refused one on 127.0.0.1.
describe('guarded download over loopback', () => {
  let dir: string;
  let allowed: MediaServer;
  let forbidden: MediaServer;
  let guard: OutboundGuard;
  const signal = () => AbortSignal.timeout(5000);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vidgate-dl-'));
    writeFileSync(path.join(dir, 'hello.txt'), 'hello');
    writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(64 * 1024, 1));
    allowed = await startMediaServer(dir, '127.0.0.2');
    forbidden = await startMediaServer(dir, '127.0.0.1');
    guard = new OutboundGuard(new AddressPolicy(['127.0.0.2/32']), tableResolver({ 'media.test': ['127.0.0.2'] }));
  });
  after(async () => {
    await guard.close();
    await allowed.close();
    await forbidden.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches from an allow-listed address and by a name resolving to it', async () => {
    for (const url of [allowed.url('hello.txt'), `http://media.test:${new URL(allowed.origin).port}/hello.txt`]) {
      const out = path.join(dir, 'out.txt');
      assert.equal(await downloadToFile(guard, url, out, { maxBytes: 100, signal: signal() }), 5);
      assert.equal(readFileSync(out, 'utf8'), 'hello');
    }
  });

  it('refuses loopback targets outside the allow-list, in every spelling', async () => {
    const port = new URL(forbidden.origin).port;
    const targets = [
      `http://127.0.0.1:${port}/hello.txt`,
      `http://localhost:${port}/hello.txt`,
      `http://[::1]:${port}/hello.txt`,
      `http://0.0.0.0:${port}/hello.txt`,
      `http://2130706433:${port}/hello.txt`,
      `http://0x7f000001:${port}/hello.txt`,
      `http://[::ffff:127.0.0.1]:${port}/hello.txt`,
    ];
    for (const url of targets) {
      await assert.rejects(downloadToFile(guard, url, path.join(dir, 'x'), { maxBytes: 100, signal: signal() }), (error: Error) => {
        const cause = (error as { cause?: Error }).cause ?? error;
        assert.match(cause.message, /not allowed/, url);
        return true;
      });
    }
    assert.deepEqual(forbidden.hits, [], 'the refused server saw no request');
  });

  it('re-checks every redirect hop', async () => {
    const target = `http://127.0.0.1:${new URL(forbidden.origin).port}/hello.txt`;
    const url = `${allowed.origin}/redirect?to=${encodeURIComponent(target)}`;
    await assert.rejects(downloadToFile(guard, url, path.join(dir, 'x'), { maxBytes: 100, signal: signal() }), (error: Error) => {
      const refusal = ((error as { cause?: Error }).cause ?? error) as Error & { detail?: string };
      assert.equal(refusal.message, 'the URL is not allowed');
      assert.match(refusal.detail ?? '', /it is a loopback address/);
      return true;
    });
    assert.deepEqual(forbidden.hits, []);
    const good = `${allowed.origin}/redirect?to=${encodeURIComponent('/hello.txt')}`;
    assert.equal(await downloadToFile(guard, good, path.join(dir, 'ok'), { maxBytes: 100, signal: signal() }), 5);
  });

  it('stops a body over the cap while streaming, with or without Content-Length', async () => {
    for (const url of [allowed.url('big.bin'), `${allowed.origin}/chunked/big.bin`]) {
      const out = path.join(dir, 'big-out');
      await assert.rejects(downloadToFile(guard, url, out, { maxBytes: 1000, signal: signal() }), TooLargeError);
    }
  });

  it('reports an upstream error status', async () => {
    await assert.rejects(downloadToFile(guard, `${allowed.origin}/status/404`, path.join(dir, 'x'), { maxBytes: 100, signal: signal() }), /HTTP 404/);
  });

  it('gives up at the deadline', async () => {
    await assert.rejects(downloadToFile(guard, `${allowed.origin}/hang`, path.join(dir, 'x'), { maxBytes: 100, signal: AbortSignal.timeout(200) }), {
      name: 'TimeoutError',
    });
  });
});

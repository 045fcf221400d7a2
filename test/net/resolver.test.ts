import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { boundedResolver, ResolveError } from '../../src/net/resolver.ts';
import { startTestServer } from '../helpers/server.ts';

/** A loopback "DNS server" that counts queries and never answers. */
async function silentDns(): Promise<{ socket: Socket; address: string; queries: () => number }> {
  let queries = 0;
  const socket = createSocket('udp4');
  socket.on('message', () => (queries += 1));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, address: `127.0.0.1:${socket.address().port}`, queries: () => queries };
}

describe('DNS with a deadline, off the thread pool (CONTRACT §8.6)', () => {
  let dns: Awaited<ReturnType<typeof silentDns>>;
  before(async () => {
    dns = await silentDns();
  });
  after(() => dns.socket.close());

  it('gives up on a server that never answers at the deadline, while file I/O goes on', async () => {
    const resolve = boundedResolver({ timeoutMs: 400, maxConcurrent: 64 }, [dns.address]);
    // Far more lookups than libuv's 4 pool threads: with dns.lookup these would starve the reads below.
    const lookups = Array.from({ length: 16 }, (_, i) => resolve(`host${i}.test`).then(() => 'resolved', (error) => error));
    const reads = await Promise.all(Array.from({ length: 8 }, () => readFile(new URL(import.meta.url))));
    assert.equal(reads.length, 8, 'file reads finished while every lookup was pending');
    const outcomes = await Promise.all(lookups);
    for (const outcome of outcomes) assert.ok(outcome instanceof ResolveError, String(outcome));
    assert.ok(dns.queries() >= 16, `the server was asked (${dns.queries()} queries)`);
  });

  it('bounds the lookups in flight: the ones past the bound wait for a free slot', async () => {
    // This server holds queries and answers NXDOMAIN in batches once 4 are held: 2 lookups × (A, AAAA).
    const held: { message: Buffer; port: number }[] = [];
    let mostHeld = 0;
    const socket = createSocket('udp4');
    socket.on('message', (message, peer) => {
      held.push({ message, port: peer.port });
      mostHeld = Math.max(mostHeld, held.length);
      if (held.length === 4) setImmediate(() => held.splice(0).forEach(({ message: query, port }) => socket.send(nxdomain(query), port, '127.0.0.1')));
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      const resolve = boundedResolver({ timeoutMs: 10_000, maxConcurrent: 2 }, [`127.0.0.1:${socket.address().port}`]);
      const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => resolve(`bounded${i}.test`).catch((error: Error) => error)));
      for (const outcome of outcomes) assert.match(String(outcome), /has no address/);
      assert.equal(mostHeld, 4, 'never more than 2 lookups in flight');
    } finally {
      socket.close();
    }
  });

  it('answers localhost with loopback without asking DNS', async () => {
    const before = dns.queries();
    assert.deepEqual(await boundedResolver({ timeoutMs: 300, maxConcurrent: 1 }, [dns.address])('localhost'), ['127.0.0.1', '::1']);
    assert.equal(dns.queries(), before);
  });

  it('answers a create whose callback host never resolves within the deadline, and serves others meanwhile', async () => {
    const server = await startTestServer({ VIDGATE_DNS_TIMEOUT: '1s' }, { resolver: boundedResolver({ timeoutMs: 1000, maxConcurrent: 32 }, [dns.address]) });
    try {
      const stuck = Array.from({ length: 8 }, () =>
        server.call('POST', '/v1/videos/generations', { body: { model: 'wan2.7-text-to-video', prompt: 'x', callback_url: 'https://hooks.never.test/cb' } }),
      );
      const credits = await server.call('GET', '/v1/credits'); // answered while the lookups hang
      assert.equal(credits.status, 200);
      for (const res of await Promise.all(stuck)) {
        assert.equal(res.status, 400);
        assert.equal(res.body.error.message, 'callback_url: the host could not be reached');
      }
    } finally {
      await server.close();
    }
  });
});

/** The NXDOMAIN answer to a DNS query: same id and question, QR set, RCODE 3. */
function nxdomain(query: Buffer): Buffer {
  const answer = Buffer.from(query);
  answer[2] |= 0x80; // QR: a response
  answer[3] = (answer[3] & 0xf0) | 0x83; // RA, RCODE = NXDOMAIN
  return answer;
}

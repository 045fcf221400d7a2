import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressPolicy } from '../../src/net/address-policy.ts';
import { OutboundGuard, OutboundRefusedError } from '../../src/net/outbound-guard.ts';
import { tableResolver } from '../helpers/resolver.ts';

// Decisions only: nothing here opens a socket.
const policy = new AddressPolicy();

const refused: [string, RegExp][] = [
  ['127.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['::1', /loopback/],
  ['10.0.0.1', /private/],
  ['10.255.255.255', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.254', /private/],
  ['192.168.1.1', /private/],
  ['169.254.169.254', /link-local/],
  ['fe80::1', /link-local/],
  ['100.64.0.1', /CGNAT/],
  ['100.127.255.254', /CGNAT/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['ff02::1', /multicast/],
  ['0.0.0.0', /unspecified/],
  ['::', /unspecified/],
  ['255.255.255.255', /broadcast/],
  ['fc00::1', /unique local/],
  ['fd12:3456::1', /unique local/],
  ['::ffff:127.0.0.1', /loopback/],
  ['::ffff:10.1.2.3', /private/],
  ['::ffff:169.254.169.254', /link-local/],
  ['64:ff9b::a00:1', /reserved/],
  ['::7f00:1', /IPv4-compatible/],
  ['::a00:1', /IPv4-compatible/],
  ['::8.8.8.8', /IPv4-compatible/],
  ['2002:7f00:1::', /reserved/],
  ['240.0.0.1', /reserved/],
  ['192.0.2.1', /reserved/],
];

describe('address policy', () => {
  for (const [address, reason] of refused) {
    it(`refuses ${address}`, () => {
      const decision = policy.decide(address);
      assert.equal(decision.allowed, false);
      assert.match((decision as { reason: string }).reason, reason);
    });
  }
  for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    it(`allows public unicast ${address}`, () => assert.deepEqual(policy.decide(address), { allowed: true }));
  }
  it('refuses what is not an address', () => {
    assert.equal(policy.decide('example.com').allowed, false);
  });
  it('lets operator CIDRs through, and only those', () => {
    const open = new AddressPolicy(['127.0.0.2/32', '10.1.0.0/16', 'fd00::/8']);
    assert.deepEqual(open.decide('127.0.0.2'), { allowed: true });
    assert.deepEqual(open.decide('::ffff:127.0.0.2'), { allowed: true });
    assert.deepEqual(open.decide('10.1.200.3'), { allowed: true });
    assert.deepEqual(open.decide('fd00::5'), { allowed: true });
    assert.equal(open.decide('127.0.0.1').allowed, false);
    assert.equal(open.decide('10.2.0.1').allowed, false);
    assert.equal(open.decide('::1').allowed, false);
    assert.equal(open.isAllowListed('127.0.0.2'), true);
    assert.equal(open.isAllowListed('8.8.8.8'), false);
  });
  it('judges the hosts URL parsing makes of numeric and bracketed forms', () => {
    for (const url of ['http://2130706433/', 'http://0x7f000001/', 'http://0x7f.1/', 'http://017700000001/', 'http://127.1/', 'http://[::ffff:127.0.0.1]/', 'http://[::1]/', 'http://0/']) {
      const host = new URL(url).hostname;
      assert.equal(policy.decide(host).allowed, false, `${url} → ${host}`);
    }
  });
});

describe('outbound guard resolution', () => {
  const guard = new OutboundGuard(
    new AddressPolicy(['127.0.0.2/32']),
    tableResolver({
      'public.test': ['93.184.216.34'],
      'internal.test': ['10.0.0.7'],
      'mixed.test': ['93.184.216.34', '192.168.0.10'],
      'metadata.test': ['169.254.169.254'],
      'allowed.test': ['127.0.0.2'],
    }),
  );
  it('resolves names itself and returns the checked address', async () => {
    assert.equal(await guard.resolveChecked('public.test'), '93.184.216.34');
    assert.equal(await guard.resolveChecked('allowed.test'), '127.0.0.2');
  });
  it('refuses a name when any of its addresses is refused', async () => {
    for (const host of ['internal.test', 'mixed.test', 'metadata.test', 'localhost']) {
      await assert.rejects(guard.resolveChecked(host), (error: OutboundRefusedError) => error.message === 'the URL is not allowed' && error.detail.startsWith(host), host);
    }
  });
  it('refuses IP literals without resolving them', async () => {
    await assert.rejects(guard.resolveChecked('[::1]'), { message: 'the URL is not allowed', detail: '::1 → ::1: it is a loopback address' });
    await assert.rejects(guard.resolveChecked('127.0.0.1'), { message: 'the URL is not allowed' });
  });
  it('refuses names that do not resolve', async () => {
    await assert.rejects(guard.resolveChecked('nowhere.test'), { message: 'the host could not be reached' });
  });
  it('knows when every address of a host is allow-listed', async () => {
    assert.equal(await guard.isAllowListed('allowed.test'), true);
    assert.equal(await guard.isAllowListed('public.test'), false);
  });
});

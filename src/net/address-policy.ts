import ipaddr from 'ipaddr.js';

export type AddressDecision = { allowed: true } | { allowed: false; reason: string };

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private (unique local)',
  linkLocal: 'link-local',
  carrierGradeNat: 'CGNAT (shared address space)',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  ipv4Compatible: 'IPv4-compatible IPv6 (::/96)',
};

// IPv4-compatible IPv6 (deprecated, RFC 4291 §2.5.5.1): ipaddr.js calls it unicast, yet stacks may route it as the IPv4 it carries.
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/** Strips the brackets URL hostnames put around IPv6 literals. */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Which addresses outbound requests may reach: public unicast only, unless an operator CIDR
 * allows it. IPv4-mapped IPv6 is judged as the IPv4 address it carries.
 */
export class AddressPolicy {
  private readonly allowList: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(allowCidrs: readonly string[] = []) {
    this.allowList = allowCidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  /** True when an operator CIDR covers the address (such addresses may also use plain http). */
  isAllowListed(address: string): boolean {
    const ip = parseAddress(address);
    return ip !== null && this.allowList.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
  }

  decide(address: string): AddressDecision {
    const ip = parseAddress(address);
    if (ip === null) return { allowed: false, reason: 'it is not an IP address' };
    if (this.isAllowListed(address)) return { allowed: true };
    let range: string = ip.range();
    if (range === 'unicast' && ip.kind() === 'ipv6' && ip.match(IPV4_COMPATIBLE)) range = 'ipv4Compatible';
    if (range === 'unicast') return { allowed: true };
    return { allowed: false, reason: `it is a ${RANGE_NAMES[range] ?? `reserved (${range})`} address` };
  }
}

/** The address as ipaddr sees it, IPv4-mapped IPv6 turned into IPv4; null if not an IP. */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  let text = unbracket(address);
  if (!ipaddr.isValid(text)) return null;
  // ipaddr.js reads a dotted tail (::8.8.8.8) as IPv4-mapped; the URL parser's hex form keeps ::/96 apart from ::ffff:0:0/96.
  if (text.includes(':')) text = unbracket(new URL(`http://[${text}]/`).hostname);
  return ipaddr.process(text);
}

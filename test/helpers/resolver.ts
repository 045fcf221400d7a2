import type { HostResolver } from '../../src/net/outbound-guard.ts';

/**
 * Answers host names from a table, never from DNS, so tests send no traffic off this machine.
 * Unknown names fail like NXDOMAIN.
 */
export function tableResolver(table: Record<string, string[]> = {}): HostResolver {
  const known: Record<string, string[]> = { localhost: ['127.0.0.1', '::1'], ...table };
  return async (hostname) => {
    const addresses = known[hostname.toLowerCase()];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses;
  };
}

import { Resolver } from 'node:dns/promises';
import { Slots } from '../util/slots.ts';

/** Resolves a host name to all its addresses; tests pass one that answers without DNS. */
export type HostResolver = (hostname: string) => Promise<string[]>;

/** A name that did not resolve in time, or at all. */
export class ResolveError extends Error {}

export type ResolverOptions = {
  /** The whole lookup (both families, waiting for a slot included). */
  timeoutMs: number;
  /** Lookups in flight at once; more wait their turn within the same deadline. */
  maxConcurrent: number;
};

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.']);

/**
 * DNS through c-ares (`dns.Resolver`), never `dns.lookup`: lookups do not take libuv's thread
 * pool, which file I/O shares, so a slow or silent DNS server stalls only the requests that
 * need it (CONTRACT §8.6). Each lookup has a deadline and the number in flight is bounded.
 * `localhost` answers loopback (c-ares does not read /etc/hosts); the policy judges it as any address.
 */
export function boundedResolver({ timeoutMs, maxConcurrent }: ResolverOptions, servers?: string[]): HostResolver {
  const slots = new Slots(maxConcurrent);
  return async (hostname) => {
    if (LOOPBACK_NAMES.has(hostname.toLowerCase())) return ['127.0.0.1', '::1'];
    const deadline = AbortSignal.timeout(timeoutMs);
    if (!(await slots.acquire(deadline))) throw new ResolveError(`no lookup slot for ${hostname} within ${timeoutMs} ms`);
    const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
    if (servers) resolver.setServers(servers);
    const cancel = () => resolver.cancel();
    deadline.addEventListener('abort', cancel, { once: true });
    try {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
      if (deadline.aborted) throw new ResolveError(`no answer for ${hostname} within ${timeoutMs} ms`);
      const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (addresses.length === 0) throw new ResolveError(`${hostname} has no address`);
      return addresses;
    } finally {
      deadline.removeEventListener('abort', cancel);
      slots.release();
    }
  };
}

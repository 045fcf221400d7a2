import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { type AddressPolicy, unbracket } from './address-policy.ts';

/** Resolves a host name to all its addresses; tests pass one that answers without DNS. */
export type HostResolver = (hostname: string) => Promise<string[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** A destination the guard would not connect to; the message says why, never an internal detail. */
export class OutboundRefusedError extends Error {
  readonly code = 'VIDGATE_OUTBOUND_REFUSED';
}

/**
 * The single way vidgate reaches other hosts: resolves names itself, refuses any address the
 * policy refuses (every resolved address must pass), and connects to the address it checked.
 */
export class OutboundGuard {
  readonly policy: AddressPolicy;
  private readonly resolver: HostResolver;
  readonly dispatcher: Agent;

  constructor(policy: AddressPolicy, resolver: HostResolver = systemResolver, connectTimeoutMs = 10_000) {
    this.policy = policy;
    this.resolver = resolver;
    const connectChecked = buildConnector({ timeout: connectTimeoutMs });
    this.dispatcher = new Agent({
      connect: (options, callback) => {
        const host = unbracket(options.hostname);
        this.resolveChecked(host).then(
          (address) =>
            connectChecked({ ...options, hostname: address, servername: options.servername ?? (isIP(host) ? undefined : host) }, callback),
          (error: Error) => callback(error, null),
        );
      },
    });
  }

  /** The address to connect to for `hostname`, or OutboundRefusedError. */
  async resolveChecked(hostname: string): Promise<string> {
    const host = unbracket(hostname);
    const addresses = isIP(host) ? [host] : await this.resolveName(host);
    for (const address of addresses) {
      const decision = this.policy.decide(address);
      if (!decision.allowed) {
        const what = isIP(host) ? `address ${host}` : `host ${host} resolves to an address that`;
        throw new OutboundRefusedError(`${what} is not allowed: ${decision.reason}`);
      }
    }
    return addresses[0];
  }

  /** True when every address of the host is on the operator's allow-list. */
  async isAllowListed(hostname: string): Promise<boolean> {
    const host = unbracket(hostname);
    const addresses = isIP(host) ? [host] : await this.resolveName(host);
    return addresses.every((address) => this.policy.isAllowListed(address));
  }

  private async resolveName(host: string): Promise<string[]> {
    let addresses: string[];
    try {
      addresses = await this.resolver(host);
    } catch {
      throw new OutboundRefusedError(`host ${host} could not be resolved`);
    }
    if (addresses.length === 0) throw new OutboundRefusedError(`host ${host} could not be resolved`);
    return addresses;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

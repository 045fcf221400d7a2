import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { Agent, buildConnector } from 'undici';
import { type AddressPolicy, unbracket } from './address-policy.ts';
import type { HostResolver } from './resolver.ts';

export type { HostResolver } from './resolver.ts';

/**
 * A destination the guard would not connect to. The message says only "not allowed" or "could
 * not be reached" (CONTRACT §8.6: never what a name resolved to, nor the range); `detail` is for the log.
 */
export class OutboundRefusedError extends Error {
  readonly code = 'VIDGATE_OUTBOUND_REFUSED';
  readonly detail: string;
  constructor(message: string, detail: string) {
    super(message);
    this.detail = detail;
  }
}

export const NOT_ALLOWED = 'the URL is not allowed';
export const UNREACHABLE = 'the host could not be reached';

/**
 * The single way vidgate reaches other hosts: resolves names itself, refuses any address the
 * policy refuses (every resolved address must pass), and connects to the address it checked.
 */
export class OutboundGuard {
  readonly policy: AddressPolicy;
  private readonly resolver: HostResolver;
  private readonly logger: Logger | undefined;
  readonly dispatcher: Agent;

  constructor(policy: AddressPolicy, resolver: HostResolver, options: { connectTimeoutMs?: number; logger?: Logger } = {}) {
    this.policy = policy;
    this.resolver = resolver;
    this.logger = options.logger;
    const connectChecked = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000 });
    this.dispatcher = new Agent({
      connect: (connectOptions, callback) => {
        const host = unbracket(connectOptions.hostname);
        this.resolveChecked(host).then(
          (address) =>
            connectChecked({ ...connectOptions, hostname: address, servername: connectOptions.servername ?? (isIP(host) ? undefined : host) }, callback),
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
      if (!decision.allowed) throw this.refused(NOT_ALLOWED, `${host} → ${address}: ${decision.reason}`);
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
    } catch (error) {
      throw this.refused(UNREACHABLE, `${host}: ${(error as Error).message}`);
    }
    if (addresses.length === 0) throw this.refused(UNREACHABLE, `${host}: no address`);
    return addresses;
  }

  private refused(message: string, detail: string): OutboundRefusedError {
    this.logger?.info({ detail }, `outbound request refused: ${message}`);
    return new OutboundRefusedError(message, detail);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

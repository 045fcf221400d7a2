import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Received = { at: number; headers: IncomingHttpHeaders; body: string; path: string };

/** How the receiver answers its n-th request (0-based): a status code, or 'hang' (never answers). */
export type Answer = (n: number, request: Received) => number | 'hang';

/**
 * A callback receiver on a loopback address (127.0.0.2 by default, which tests allow-list):
 * records every request and answers as `answer` says.
 */
export async function startReceiver(answer: Answer = () => 200, host = '127.0.0.2'): Promise<{
  url: string;
  port: number;
  received: Received[];
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const record = { at: Date.now(), headers: req.headers, body, path: req.url ?? '' };
      const reply = answer(received.length, record);
      received.push(record);
      if (reply === 'hang') return;
      if (reply >= 300 && reply < 400) res.setHeader('location', '/elsewhere');
      res.writeHead(reply).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/hook`,
    port,
    received,
    async waitFor(count, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > end) throw new Error(`the receiver got ${received.length} of ${count} callbacks`);
        await sleep(20);
      }
      return received;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export type MediaServer = {
  origin: string;
  url(name: string): string;
  hits: string[];
  /** Resolves once `count` requests to /hang have been closed by the client. */
  hangsClosed(count: number): Promise<void>;
  close(): Promise<void>;
};

/**
 * A loopback file server for media tests. Besides files from `dir` it serves
 * /redirect?to=URL (302), /chunked/NAME (no Content-Length), /status/N and /hang.
 */
export async function startMediaServer(dir: string, host = '127.0.0.2'): Promise<MediaServer> {
  const hits: string[] = [];
  let closedHangs = 0;
  const hangWaiters: { count: number; resolve(): void }[] = [];
  const hangClosed = () => {
    closedHangs += 1;
    for (const waiter of hangWaiters.filter((w) => closedHangs >= w.count)) waiter.resolve();
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push(url.pathname);
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
      return;
    }
    if (url.pathname.startsWith('/status/')) {
      res.writeHead(Number(url.pathname.slice(8))).end('nope');
      return;
    }
    if (url.pathname === '/hang') {
      req.socket.once('close', hangClosed);
      return; // never answers: for deadline tests
    }
    const chunked = url.pathname.startsWith('/chunked/');
    const file = path.join(dir, path.basename(decodePath(url.pathname)));
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, chunked ? { 'content-type': 'application/octet-stream' } : { 'content-length': size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    origin,
    url: (name) => `${origin}/${name}`,
    hits,
    hangsClosed: (count) => (closedHangs >= count ? Promise.resolve() : new Promise((resolve) => hangWaiters.push({ count, resolve }))),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

// What bench/api and bench/scale share: starting a bench server process and loading it with autocannon.
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';

export const BENCH_KEY = `sk-evo-bench${'0'.repeat(32)}`;
export const CREATE_BODY = JSON.stringify({ model: 'wan2.7-text-to-video', prompt: 'a lighthouse at dusk, waves, cinematic', duration: 5 });
export const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' };

/** Starts bench/servers/<name>.ts in a process of its own; resolves when it prints "ready <port>". */
export function startServer(name: 'bare' | 'vidgate', env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const script = new URL(`./servers/${name}.ts`, import.meta.url).pathname;
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const port = /ready (\d+)/.exec(chunk.toString())?.[1];
      if (port) resolve({ child, url: `http://127.0.0.1:${port}` });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

export type LoadResult = { rps: number; p50: number; p99: number; errors: number };
export type LoadRequest = { method: 'GET' | 'POST'; path: string; body?: string };

/**
 * Loads `urls` at once (one autocannon per URL, the connections shared out), cycling through
 * `requests` on every connection; `rate` caps the requests a second across all of them.
 * p99 is the worst of the URLs' p99s.
 */
export async function load(urls: string[], requests: LoadRequest[], options: { seconds: number; connections: number; rate?: number }): Promise<LoadResult> {
  const each = Math.max(1, Math.floor(options.connections / urls.length));
  const results = await Promise.all(urls.map((url) => autocannon({
    url, headers, connections: each, duration: options.seconds,
    requests: requests.map((r) => ({ method: r.method, path: r.path, body: r.body })),
    ...(options.rate ? { overallRate: Math.max(1, Math.round(options.rate / urls.length)) } : {}),
  })));
  return {
    rps: results.reduce((sum, r) => sum + r.requests.average, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    errors: results.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  };
}

/**
 * An open-loop load: requests leave at `rate` a second whatever the answers do (spread over
 * `urls` and `requests` in turn), and each one's latency counts from when it was due to leave,
 * so a server that falls behind shows it (autocannon's rate limit sends each second's share in
 * a burst and waits, which measures neither).
 */
export async function paced(urls: string[], requests: LoadRequest[], options: { seconds: number; connections: number; rate: number }): Promise<LoadResult> {
  const pools = urls.map((url) => new Pool(url, { connections: Math.max(1, Math.floor(options.connections / urls.length)) }));
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const send = () => {
    const due = start + (sent / options.rate) * 1000;
    const request = requests[sent % requests.length];
    const pool = pools[sent % pools.length];
    sent += 1;
    const done = pool.request({ method: request.method, path: request.path, body: request.body, headers }).then(async (res) => {
      await res.body.dump();
      if (res.statusCode >= 300) errors += 1;
      else latencies.push(performance.now() - due);
    }, () => void (errors += 1));
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - start) / 1000;
      if (elapsed >= options.seconds) {
        clearInterval(timer);
        resolve();
        return;
      }
      while (sent < Math.floor(elapsed * options.rate)) send();
    }, 1);
  });
  await Promise.all(inFlight);
  await Promise.all(pools.map((pool) => pool.close()));
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
  return { rps: latencies.length / options.seconds, p50: at(0.5), p99: at(0.99), errors };
}

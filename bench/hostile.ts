// bench/hostile: one vidgate under attack by keys of its own — 8 PNG bombs (16000×16000) in a
// loop, 4 oversized base64 uploads in a loop, 300 slow-drip connections — while a well-behaved
// client creates and reads tasks. Prints the server's peak RSS and the good client's create and
// get p50/p99 on the idle server and under attack, as ratios. Loopback only; bounded in time.
// Usage: node bench/hostile.ts [seconds per phase, default 15] [attacks, default bombs,uploads,drips]
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fixturesDir } from '../test/helpers/fixtures.ts';
import { pngBomb } from '../test/helpers/png-bomb.ts';

const SECONDS = Number(process.argv[2] ?? 15);
// Which attacks run (comma-separated): bombs, uploads, drips; all by default.
const ATTACKS = new Set((process.argv[3] ?? 'bombs,uploads,drips').split(','));
const KEY = `sk-evo-bench${'0'.repeat(32)}`;
const json = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const env = { ...process.env, BENCH_KEY: KEY, VIDGATE_OUTBOUND_ALLOW: '127.0.0.2/32', VIDGATE_MEDIA_DEADLINE: '15s' };
  const child = spawn(process.execPath, [new URL('./servers/vidgate.ts', import.meta.url).pathname], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const port = /ready (\d+)/.exec(chunk.toString())?.[1];
      if (port) resolve({ child, url: `http://127.0.0.1:${port}` });
    });
    child.on('exit', (code) => reject(new Error(`the server exited ${code}`)));
  });
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

type Latencies = { create: number[]; get: number[] };

/** The well-behaved client: create a task, read it, again, for `seconds`. */
async function wellBehaved(url: string, seconds: number): Promise<Latencies> {
  const end = Date.now() + seconds * 1000;
  const out: Latencies = { create: [], get: [] };
  const body = JSON.stringify({ model: 'wan2.7-text-to-video', prompt: 'a calm sea', duration: 2 });
  while (Date.now() < end) {
    let t = performance.now();
    const created = await fetch(`${url}/v1/videos/generations`, { method: 'POST', headers: json, body });
    const task = (await created.json()) as { id: string };
    out.create.push(performance.now() - t);
    if (created.status !== 200) throw new Error(`well-behaved create answered ${created.status}: ${JSON.stringify(task)}`);
    t = performance.now();
    const got = await fetch(`${url}/v1/tasks/${task.id}`, { headers: json });
    await got.arrayBuffer();
    out.get.push(performance.now() - t);
  }
  return out;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Runs `attack` over and over until `stop` aborts. */
async function repeat(stop: AbortSignal, attack: () => Promise<unknown>): Promise<number> {
  let runs = 0;
  while (!stop.aborted) {
    await attack().catch(() => {});
    runs += 1;
  }
  return runs;
}

/** 300 connections that send headers a byte a second and never finish; each one cut is opened again. */
function slowDrips(url: string, count: number, stop: AbortSignal): { cut: () => number } {
  const { port } = new URL(url);
  let cut = 0;
  const open = () => {
    if (stop.aborted) return;
    const socket: Socket = connect(Number(port), '127.0.0.1', () => socket.write('POST /v1/videos/generations HTTP/1.1\r\nHost: x\r\n'));
    const drip = setInterval(() => socket.writable && socket.write('X'), 1000);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      cut += 1;
      open();
    });
    stop.addEventListener('abort', () => socket.destroy(), { once: true });
  };
  for (let i = 0; i < count; i += 1) open();
  return { cut: () => cut };
}

const fixtures = fixturesDir();
const bomb = readFileSync(await pngBomb(fixtures));
const media = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png', 'content-length': bomb.length }).end(bomb));
await new Promise<void>((resolve) => media.listen(0, '127.0.0.2', resolve));
const bombUrl = `http://127.0.0.2:${(media.address() as AddressInfo).port}/bomb.png`;
// Just under the body limit, over the decoded cap: the server must read every byte before refusing.
const oversized = JSON.stringify({ base64_data: Buffer.alloc(Math.floor(20 * 1024 * 1024 * 1.3), 7).toString('base64').slice(0, Math.floor(20 * 1024 * 1024 * 1.35)) });

const { child, url } = await startServer();
try {
  await wellBehaved(url, 2); // warm-up
  const idle = await wellBehaved(url, SECONDS);
  const idleRss = peakRssMb(child.pid!);

  const stop = new AbortController();
  const bombs = Array.from({ length: ATTACKS.has('bombs') ? 8 : 0 }, () =>
    repeat(stop.signal, async () => {
      const res = await fetch(`${url}/v1/videos/generations`, { method: 'POST', headers: json, body: JSON.stringify({ model: 'happyhorse-1.0-video-edit', prompt: 'x', video_urls: [bombUrl], image_urls: [bombUrl] }) });
      await res.arrayBuffer();
    }));
  const uploads = Array.from({ length: ATTACKS.has('uploads') ? 4 : 0 }, () =>
    repeat(stop.signal, async () => {
      const res = await fetch(`${url}/api/v1/files/upload/base64`, { method: 'POST', headers: json, body: oversized });
      await res.arrayBuffer();
    }));
  const drips = slowDrips(url, ATTACKS.has('drips') ? 300 : 0, stop.signal);
  const attacked = await wellBehaved(url, SECONDS);
  stop.abort();
  const [bombRuns, uploadRuns] = [(await Promise.all(bombs)).reduce((a, b) => a + b, 0), (await Promise.all(uploads)).reduce((a, b) => a + b, 0)];
  const peak = peakRssMb(child.pid!);

  const row = (name: string, a: number[], b: number[]) =>
    `${name.padEnd(8)} ${percentile(a, 50).toFixed(1).padStart(8)} ${percentile(a, 99).toFixed(1).padStart(8)} ${percentile(b, 50).toFixed(1).padStart(10)} ${percentile(b, 99).toFixed(1).padStart(10)} ${(percentile(b, 99) / percentile(a, 99)).toFixed(2).padStart(9)}`;
  console.log(`bench/hostile: ${SECONDS} s per phase, one vidgate process (SQLite)`);
  console.log(`attack: ${bombRuns} PNG-bomb creates (8 at a time), ${uploadRuns} oversized base64 uploads (4 at a time), 300 slow-drip connections (${drips.cut()} cut and reopened)`);
  console.log('');
  console.log('ms       idle p50 idle p99 attack p50 attack p99 p99 ratio');
  console.log(row('create', idle.create, attacked.create));
  console.log(row('get', idle.get, attacked.get));
  console.log('');
  console.log(`well-behaved requests: ${idle.create.length * 2} idle, ${attacked.create.length * 2} under attack`);
  console.log(`server peak RSS: ${peak} MB (${idleRss} MB after the idle phase); aim: under 600 MB, p99 within 3× idle`);
} finally {
  child.kill('SIGTERM');
  media.close();
}

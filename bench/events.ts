// Task events at scale: for each N (default 1,000, 5,000 and 10,000), one fresh `vidgate serve`
// (SQLite, local engine) takes N open streams of the user's tasks (GET /v1/tasks/events), then
// renders T tasks; every progress write reaches every stream. Prints the server's RSS per 1k
// streams (above the same server idle) and the p50/p95 delay from each write (the event's time,
// from its id) to its arrival at each client, and the floor: how long a bare Node server takes to write
// one event to as many loopback connections. Aim: under 30 MB per 1k streams, p95 under 250 ms at 10k.
// Usage: node bench/events.ts [streams=1000,5000,10000] [tasks=4]
// BENCH_DEBUG=1 also prints each event's rank, time and min/max delay; BENCH_SERVER_NODE_OPTIONS reaches the server (--cpu-prof).
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROCESS_KEY, startVidgate, type VidgateProcess } from '../test/helpers/process.ts';

const COUNTS = (process.argv[2] ?? '1000,5000,10000').split(',').map(Number);
const TASKS = Number(process.argv[3] ?? 4);
const MB = 1024 * 1024;

/** The server's resident memory now, from /proc. */
function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** One client's stream, on a bare socket: records each event's delay and counts the terminal ones, parsing no JSON (ids carry the time). */
type Client = { socket: Socket; delays: number[]; ids: number[]; completed: number };

function openStream(baseUrl: string): Promise<Client> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const client: Client = { socket, delays: [], ids: [], completed: 0 };
    let carry = '';
    let head = true;
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(`GET /v1/tasks/events HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${PROCESS_KEY}\r\n\r\n`));
    socket.on('data', (chunk: string) => {
      let text = carry + chunk;
      if (head) {
        const end = text.indexOf('\r\n\r\n');
        if (end === -1) return void (carry = text);
        if (!text.startsWith('HTTP/1.1 200')) return reject(new Error(`stream answered ${text.slice(0, end)}`));
        head = false;
        text = text.slice(end + 4);
        resolve(client);
      }
      const cut = text.lastIndexOf('\n\n');
      carry = cut === -1 ? text : text.slice(cut + 2);
      const now = Date.now();
      for (let at = text.indexOf('id: '); at !== -1 && at < cut; at = text.indexOf('id: ', at + 4)) {
        const id = Number(text.slice(at + 4, text.indexOf('\n', at)));
        client.delays.push(now - Math.floor(id / 1000));
        client.ids.push(id);
        if (id % 1000 === 200) client.completed++; // the rank of a terminal state
      }
    });
    socket.on('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function run(count: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-events-'));
  const server: VidgateProcess = await startVidgate(['serve'], { VIDGATE_DATA_DIR: dir, VIDGATE_BOOTSTRAP_CREDITS: '100000', ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}) });
  try {
    // Warm: a task through to the end and a stream opened and closed, so idle includes what one use loads.
    const warm = await openStream(server.baseUrl);
    const first = (await server.call('POST', '/v1/videos/generations', { model: 'wan2.7-text-to-video', prompt: 'warm', duration: 2 })).body.id;
    await waitFor(() => warm.completed === 1, `warm-up task ${first}`);
    warm.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = rss(server.child.pid!);

    const opening = performance.now();
    const clients: Client[] = [];
    for (let i = 0; i < count; i += 200) clients.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, () => openStream(server.baseUrl)))));
    const openSeconds = (performance.now() - opening) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const open = rss(server.child.pid!);

    const start = performance.now();
    await Promise.all(Array.from({ length: TASKS }, (_, i) => server.call('POST', '/v1/videos/generations', { model: 'wan2.7-text-to-video', prompt: `events ${i}`, duration: 2 })));
    await waitFor(() => clients.every((client) => client.completed >= TASKS), 'every client to see every task end');
    const seconds = (performance.now() - start) / 1000;
    const peak = rss(server.child.pid!);

    const delays = clients.flatMap((client) => client.delays).sort((a, b) => a - b);
    const perClient = delays.length / count;
    console.log(`${count.toLocaleString('en')} streams (opened in ${openSeconds.toFixed(1)} s):`);
    console.log(`  server RSS ${(idle / MB).toFixed(0)} MB idle, ${(open / MB).toFixed(0)} MB with the streams open: ${(((open - idle) / MB) * (1000 / count)).toFixed(1)} MB per 1k streams (aim: under 30); ${(peak / MB).toFixed(0)} MB after the tasks`);
    console.log(`  ${TASKS} tasks in ${seconds.toFixed(1)} s, ${perClient.toFixed(1)} events per client, ${delays.length.toLocaleString('en')} arrivals: delay from write to arrival p50 ${percentile(delays, 50)} ms, p95 ${percentile(delays, 95)} ms, max ${delays.at(-1)} ms (aim: p95 under 250 ms)`);
    if (process.env.BENCH_DEBUG) {
      const byId = new Map<number, number[]>();
      for (const client of clients) client.ids.forEach((id, i) => (byId.get(id) ?? byId.set(id, []).get(id)!).push(client.delays[i]));
      for (const [id, list] of [...byId].sort((a, b) => a[0] - b[0])) console.log(id % 1000, Math.floor(id / 1000) % 100000, list.length, Math.min(...list), Math.max(...list));
    }
    for (const client of clients) client.socket.destroy();
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The floor on this machine: a bare Node server's loop of one write to each of `count` loopback
 * connections (what one change costs when every stream watches it), median of 5, in ms.
 */
async function fanOutFloor(count: number): Promise<number> {
  const child = spawn(process.execPath, [new URL('./servers/fanout.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const port = Number(String((await lines.next()).value).split(' ')[1]);
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 200) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, () => new Promise<Socket>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('data', () => {});
    })))));
  }
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.stdin!.write('write\n');
    const [, wrote, ms] = String((await lines.next()).value).split(' ');
    if (Number(wrote) !== count) throw new Error(`the floor server held ${wrote} of ${count} connections`);
    times.push(Number(ms));
  }
  for (const socket of sockets) socket.destroy();
  child.kill();
  return times.sort((a, b) => a - b)[2];
}

for (const count of COUNTS) {
  await run(count);
  console.log(`  floor: a bare Node server writes one event to ${count.toLocaleString('en')} loopback connections in ${(await fanOutFloor(count)).toFixed(0)} ms (median of 5)`);
}

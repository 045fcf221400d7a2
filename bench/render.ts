// bench/render: seconds the local engine takes to render a 5 s output of every model and mode,
// at 720p and 1080p, and the ratio to real time. Inputs are ffmpeg-made fixtures on local disk.
// Then whole-task throughput through the API: one `serve` on SQLite, and on PostgreSQL one
// `serve --no-worker` with 1, 2 and 4 `worker` processes (2 jobs each), all on this machine.
// Usage: node bench/render.ts [runs per case, default 1] [tasks per throughput run, default 24]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import type { MediaInfo } from '../src/contract/media-limits.ts';
import { modelSpec } from '../src/contract/models/index.ts';
import type { RenderInput, RenderJob } from '../src/engines/engine.ts';
import { LocalEngine } from '../src/engines/local/index.ts';
import { runFfprobe, toMediaInfo } from '../src/media/probe.ts';
import { fixturesDir } from '../test/helpers/fixtures.ts';
import { startVidgate, type VidgateProcess } from '../test/helpers/process.ts';
import { tempPostgresDatabase } from '../test/helpers/store.ts';
import { ensureBenchPostgres } from './postgres.ts';

const RUNS = Number(process.argv[2] ?? 1);
const TASKS = Number(process.argv[3] ?? 24);
const fixtures = fixturesDir();
const CASES: [string, Record<string, unknown>][] = [
  ['text-to-video', { model: 'wan2.7-text-to-video', prompt: 'Shot 1 [0-2s] a fox in the snow. Shot 2 [2-5s] it runs to the sea', duration: 5 }],
  ['image-to-video first_frame', { model: 'wan2.7-image-to-video', image_start: 'image-640x360.png', duration: 5 }],
  ['image-to-video first_last_frame', { model: 'wan2.7-image-to-video', image_start: 'image-640x360.png', image_end: 'image-800x600.webp', duration: 5 }],
  ['image-to-video continuation (4 s clip)', { model: 'wan2.7-image-to-video', video_urls: ['clip-4s-400x300.mp4'], duration: 5 }],
  ['wan2.7-video-edit (5 s clip)', { model: 'wan2.7-video-edit', video_urls: ['clip-5s-640x360.mp4'], prompt: 'sepia', image_urls: ['image-640x360.png'] }],
  ['happyhorse-1.0-video-edit (5 s clip)', { model: 'happyhorse-1.0-video-edit', video_urls: ['clip-5s-640x360.mp4'], prompt: 'cartoon' }],
];

/** The job the worker would hand the engine: the contract's normalize and plan over probed fixtures. */
async function jobFor(body: Record<string, unknown>, quality: string): Promise<RenderJob> {
  const spec = modelSpec(String(body.model));
  const request = spec.normalize(spec.schema.parse({ ...body, quality, seed: 11 }) as never);
  const infos: Record<string, MediaInfo> = {};
  const inputs: Record<string, RenderInput> = {};
  for (const need of request.media) {
    const file = path.join(fixtures, path.basename(need.url));
    const info = toMediaInfo(await runFfprobe('ffprobe', file), statSync(file).size);
    infos[need.field] = info;
    inputs[need.field] = {
      field: need.field, url: need.url, kind: need.limits.kind, container: info.container, path: file, width: info.width ?? null, height: info.height ?? null,
      durationSec: info.durationSec ?? null, hasAudio: info.hasAudio,
    };
  }
  const plan = spec.plan(request, infos);
  const { width, height, fps, duration_sec } = plan.output;
  return { taskId: 'bench', model: request.model, quality: request.quality, seed: 11, params: request.params, output: { width, height, fps, durationSec: duration_sec }, inputs };
}

const engine = new LocalEngine({ ffmpegPath: 'ffmpeg' });
const work = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-render-'));
console.log(`local engine, ${RUNS} run(s) per case, best time shown; ratio = render seconds / video seconds\n`);
console.log(`${'case'.padEnd(42)}${'quality'.padEnd(9)}${'size'.padEnd(11)}${'video s'.padStart(8)}${'render s'.padStart(10)}${'ratio'.padStart(8)}`);
for (const quality of ['720p', '1080p']) {
  for (const [name, body] of CASES) {
    const job = await jobFor(Object.fromEntries(Object.entries(body).map(([k, v]) => [k, fixtureUrl(v)])), quality);
    let best = Infinity;
    for (let run = 0; run < RUNS; run++) {
      const dir = path.join(work, `${run}`);
      const started = performance.now();
      await engine.render(job, { workDir: dir, signal: new AbortController().signal, onProgress: () => {} });
      best = Math.min(best, (performance.now() - started) / 1000);
      rmSync(dir, { recursive: true, force: true });
    }
    const { width, height, durationSec } = job.output;
    console.log(`${name.padEnd(42)}${quality.padEnd(9)}${`${width}x${height}`.padEnd(11)}${durationSec.toFixed(1).padStart(8)}${best.toFixed(2).padStart(10)}${(best / durationSec).toFixed(2).padStart(8)}`);
  }
}
rmSync(work, { recursive: true, force: true });

const TASK = { model: 'wan2.7-text-to-video', prompt: 'Shot 1 [0-1s] a harbour at dawn. Shot 2 [1-2s] boats leave', duration: 2 };

/** Creates TASKS tasks at once through `api`; resolves with the seconds until the last one completed. */
async function throughput(api: VidgateProcess): Promise<number> {
  const started = performance.now();
  const ids = await Promise.all(Array.from({ length: TASKS }, async () => (await api.call('POST', '/v1/videos/generations', TASK)).body.id as string));
  const open = new Set(ids);
  while (open.size > 0) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const id of [...open]) {
      const { body } = await api.call('GET', `/v1/tasks/${id}`);
      if (body.status === 'failed' || body.status === 'cancelled') throw new Error(`task ${id} ${body.status}: ${JSON.stringify(body.error)}`);
      if (body.status === 'completed') open.delete(id);
    }
  }
  return (performance.now() - started) / 1000;
}

/** Starts the processes, runs one throughput measurement, stops them and removes their files. */
async function cluster(label: string, commands: string[][], env: Record<string, string>): Promise<void> {
  const dirs: string[] = [];
  const processes: VidgateProcess[] = [];
  try {
    for (const command of commands) {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-node-'));
      dirs.push(dataDir);
      processes.push(await startVidgate(command, { VIDGATE_DATA_DIR: dataDir, VIDGATE_BOOTSTRAP_CREDITS: '1000000', VIDGATE_WORKER_POLL: '200ms', ...env }));
    }
    const seconds = await throughput(processes[0]);
    console.log(`${label.padEnd(42)}${String(TASKS).padStart(6)}${seconds.toFixed(1).padStart(10)}${((TASKS / seconds) * 60).toFixed(1).padStart(12)}`);
  } finally {
    for (const vidgate of processes) vidgate.child.kill('SIGTERM');
    await Promise.all(processes.map((v) => v.exited));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`\ntask throughput: ${TASKS} × 2 s 720p text-to-video created at once; ${os.availableParallelism()} cores`);
console.log(`${'setup'.padEnd(42)}${'tasks'.padStart(6)}${'seconds'.padStart(10)}${'tasks/min'.padStart(12)}`);
const storage = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-storage-'));
await cluster('sqlite: 1 serve (API + worker)', [['serve']], { VIDGATE_STORAGE_DIR: storage });
ensureBenchPostgres();
for (const workers of [1, 2, 4]) {
  const database = await tempPostgresDatabase();
  const env = { VIDGATE_DATABASE_URL: database.url, VIDGATE_STORAGE_DIR: storage };
  await cluster(`postgres: 1 API + ${workers} worker process${workers > 1 ? 'es' : ''}`, [['serve', '--no-worker'], ...Array.from({ length: workers }, () => ['worker'])], env);
  await database.drop();
}
rmSync(storage, { recursive: true, force: true });
process.exit(0);

/** Fixture names stand in for URLs; the bench reads the files directly. */
function fixtureUrl(value: unknown): unknown {
  if (typeof value === 'string' && /\.(png|webp|mp4|jpg)$/.test(value)) return `http://fixture/${value}`;
  if (Array.isArray(value)) return value.map(fixtureUrl);
  return value;
}

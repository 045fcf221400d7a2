// bench/render: seconds the local engine takes to render a 5 s output of every model and mode,
// at 720p and 1080p, and the ratio to real time. Inputs are ffmpeg-made fixtures on local disk.
// Usage: node bench/render.ts [runs per case, default 1]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MediaInfo } from '../src/contract/media-limits.ts';
import { modelSpec } from '../src/contract/models/index.ts';
import type { RenderInput, RenderJob } from '../src/engines/engine.ts';
import { LocalEngine } from '../src/engines/local/index.ts';
import { runFfprobe, toMediaInfo } from '../src/media/probe.ts';
import { fixturesDir } from '../test/helpers/fixtures.ts';

const RUNS = Number(process.argv[2] ?? 1);
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
      field: need.field, url: need.url, kind: need.limits.kind, path: file, width: info.width ?? null, height: info.height ?? null,
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

/** Fixture names stand in for URLs; the bench reads the files directly. */
function fixtureUrl(value: unknown): unknown {
  if (typeof value === 'string' && /\.(png|webp|mp4|jpg)$/.test(value)) return `http://fixture/${value}`;
  if (Array.isArray(value)) return value.map(fixtureUrl);
  return value;
}

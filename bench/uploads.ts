// Streams uploads to a separate `vidgate serve` and prints throughput and how much its peak memory grew.
// Usage: node bench/uploads.ts [uploads=10] [MB each=100]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROCESS_KEY, startVidgate } from '../test/helpers/process.ts';
import { MB, peakRss, streamUpload } from '../test/helpers/uploads.ts';

const uploads = Number(process.argv[2] ?? 10);
const sizeMb = Number(process.argv[3] ?? 100);
const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-bench-uploads-'));
const server = await startVidgate(['serve', '--no-worker'], { VIDGATE_DATA_DIR: dir, VIDGATE_FILE_MAX_BYTES: String(sizeMb * MB) });
try {
  await streamUpload(server.baseUrl, PROCESS_KEY, MB); // warm up
  const baseline = peakRss(server.child.pid!);
  const times: number[] = [];
  for (let i = 0; i < uploads; i++) {
    const start = performance.now();
    const { status, body } = await streamUpload(server.baseUrl, PROCESS_KEY, sizeMb * MB);
    if (status !== 200) throw new Error(`upload ${i} answered ${status}: ${JSON.stringify(body)}`);
    times.push((performance.now() - start) / 1000);
  }
  const total = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  console.log(`${uploads} uploads of ${sizeMb} MB, one at a time, multipart over loopback to one serve process (SQLite):`);
  console.log(`  throughput ${((uploads * sizeMb) / total).toFixed(0)} MB/s; per upload p50 ${times[Math.floor(uploads / 2)].toFixed(2)} s, max ${times.at(-1)!.toFixed(2)} s`);
  console.log(`  server peak memory ${(baseline / MB).toFixed(0)} MB before, grew by ${((peakRss(server.child.pid!) - baseline) / MB).toFixed(1)} MB over ${uploads * sizeMb} MB uploaded`);
} finally {
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}

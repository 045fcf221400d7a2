// Storage throughput and memory: one `vidgate serve` (API and worker) per backend — a folder
// (`file`) and an S3 bucket on s3rver (`s3`) — takes N uploads of M MB each (streamed in, moved
// into the storage, downloaded back through vidgate), then renders T tasks and downloads their
// results. Prints MB/s each way and how much the server's peak RSS grew above idle.
// Usage: node bench/storage.ts [uploads=10] [MB each=100] [tasks=20]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3_CREDENTIALS, startS3Server } from '../test/helpers/s3.ts';
import { PROCESS_KEY, startVidgate, type VidgateProcess } from '../test/helpers/process.ts';
import { MB, peakRss, streamUpload } from '../test/helpers/uploads.ts';

const UPLOADS = Number(process.argv[2] ?? 10);
const SIZE_MB = Number(process.argv[3] ?? 100);
const TASKS = Number(process.argv[4] ?? 20);

/** Reads a URL to the end, counting bytes (never holding them). */
async function drain(url: string): Promise<number> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  let bytes = 0;
  for await (const chunk of res.body!) bytes += chunk.length;
  return bytes;
}

async function waitForTasks(server: VidgateProcess, ids: string[]): Promise<string[]> {
  const urls: string[] = [];
  for (const id of ids) {
    for (;;) {
      const task = (await server.call('GET', `/v1/tasks/${id}`)).body;
      if (task.status === 'completed') {
        urls.push(task.results[0]);
        break;
      }
      if (task.status === 'failed' || task.status === 'cancelled') throw new Error(`task ${id} ${task.status}: ${JSON.stringify(task.error)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return urls;
}

async function run(name: string, env: Record<string, string>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), `vidgate-bench-storage-${name}-`));
  const server = await startVidgate(['serve'], { VIDGATE_DATA_DIR: dir, VIDGATE_FILE_MAX_BYTES: String(SIZE_MB * MB), VIDGATE_FILE_QUOTA_BYTES: '100GiB', VIDGATE_BOOTSTRAP_CREDITS: '100000', ...env });
  try {
    const warm = await streamUpload(server.baseUrl, PROCESS_KEY, MB);
    await drain(warm.body.data.file_url);
    const idle = peakRss(server.child.pid!);
    let start = performance.now();
    const urls: string[] = [];
    for (let i = 0; i < UPLOADS; i++) {
      const { status, body } = await streamUpload(server.baseUrl, PROCESS_KEY, SIZE_MB * MB);
      if (status !== 200) throw new Error(`upload ${i} answered ${status}: ${JSON.stringify(body)}`);
      urls.push(body.data.file_url);
    }
    const upSeconds = (performance.now() - start) / 1000;
    const afterUploads = peakRss(server.child.pid!);
    start = performance.now();
    let down = 0;
    for (const url of urls) down += await drain(url);
    const downSeconds = (performance.now() - start) / 1000;
    const afterDownloads = peakRss(server.child.pid!);
    start = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i++) ids.push((await server.call('POST', '/v1/videos/generations', { model: 'wan2.7-text-to-video', prompt: `bench ${i}`, duration: 2 })).body.id);
    const results = await waitForTasks(server, ids);
    const renderSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    let resultBytes = 0;
    for (const url of results) resultBytes += await drain(url);
    const resultSeconds = (performance.now() - start) / 1000;
    const grew = (peakRss(server.child.pid!) - idle) / MB;
    const above = (rss: number) => ((rss - idle) / MB).toFixed(1);
    console.log(`${name}:`);
    console.log(`  ${UPLOADS} uploads of ${SIZE_MB} MB: in ${((UPLOADS * SIZE_MB) / upSeconds).toFixed(0)} MB/s, back out through vidgate ${((down / MB) / downSeconds).toFixed(0)} MB/s`);
    console.log(`  ${TASKS} tasks rendered and published in ${renderSeconds.toFixed(1)} s; their results (${(resultBytes / MB).toFixed(1)} MB) read back in ${resultSeconds.toFixed(2)} s`);
    console.log(`  server peak RSS ${(idle / MB).toFixed(0)} MB at idle; above it: ${above(afterUploads)} MB after the uploads, ${above(afterDownloads)} MB after reading them back, ${grew.toFixed(1)} MB after the renders (aim: under 64 MB)`);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

await run('file (a folder)', {});
const s3 = await startS3Server();
try {
  await run('s3 (s3rver on loopback)', { ...s3.env, ...S3_CREDENTIALS });
} finally {
  await s3.close();
}

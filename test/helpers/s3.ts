import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

/**
 * A real S3-speaking server on loopback for the storage tests: s3rver (pinned) in a child
 * process, started with --openssl-legacy-provider (its list tokens use DES). It checks the
 * access key id, not the secret; its multipart ETags are plain MD5s.
 */
export type S3Server = {
  endpoint: string;
  bucket: string;
  /** The environment a vidgate process needs to use it. */
  env: Record<string, string>;
  /** Stops the server (an outage); `start` brings it back on the same port with the same data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
};

export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

const CHILD = `
const S3rver = require('s3rver');
const server = new S3rver({ address: '127.0.0.1', port: Number(process.env.S3_PORT), silent: true, directory: process.env.S3_DIR, configureBuckets: [{ name: process.env.S3_BUCKET }] });
server.run().then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'), (error) => { console.error(error); process.exit(1); });
`;

export async function startS3Server(bucket = 'vidgate-test'): Promise<S3Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vidgate-s3-'));
  let port = 0;
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
      env: { ...process.env, S3_PORT: String(port), S3_DIR: dir, S3_BUCKET: bucket, NODE_OPTIONS: '' },
      cwd: path.dirname(new URL(import.meta.url).pathname), stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => { throw new Error('s3rver exited before listening'); })])) as [Buffer];
    port = JSON.parse(line.toString()).port;
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: { VIDGATE_STORAGE_URL: `s3://${bucket}`, VIDGATE_S3_ENDPOINT: endpoint, ...S3_CREDENTIALS },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

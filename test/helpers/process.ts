import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { freePort } from './server.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
export const PROCESS_KEY = `sk-evo-process${'7'.repeat(32)}`;

export type VidgateProcess = {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
};

/** Runs `vidgate <command>` as its own process on a free port; resolves once it listens (or runs). */
export async function startVidgate(command: string[], env: Record<string, string>): Promise<VidgateProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, ...command], {
    env: { ...process.env, VIDGATE_PORT: String(port), VIDGATE_LOG_LEVEL: 'warn', VIDGATE_BOOTSTRAP_KEY: PROCESS_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const ready = () => /listening on|worker running/.test(output) && resolve();
    child.stdout!.on('data', ready);
    void exited.then((code) => reject(new Error(`vidgate exited ${code}: ${output}`)));
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    child,
    baseUrl,
    exited,
    output: () => output,
    async call(method, path, body) {
      const res = await fetch(baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${PROCESS_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: await res.json() };
    },
  };
}

/** Processes whose working directory lies under `dir` (the engine runs ffmpeg in the task's work dir). */
export function processesWorkingIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(dir)) pids.push(Number(entry));
    } catch {} // gone, or not ours to read
  }
  return pids;
}

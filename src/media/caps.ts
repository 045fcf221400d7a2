import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Bounds on one ffmpeg or ffprobe process (CONTRACT §8.2): its address space, in bytes (0 = none),
 * and its CPU priority, a nice value (0 = the server's own).
 */
export type ProcessCaps = { memoryBytes: number; niceness?: number };

export const NO_CAPS: ProcessCaps = { memoryBytes: 0 };

/** util-linux's setpriv, when this system has it (Linux): it ties a child's life to ours. */
const SETPRIV = process.platform === 'linux' ? findOnPath('setpriv') : null;

/**
 * The command and arguments that run `command` as a media child: killed the moment this process
 * dies, even by `kill -9` (setpriv's parent-death signal), and under the caps through
 * util-linux's `prlimit` (RLIMIT_AS), so a hostile file makes the child fail, never this process
 * or the machine. Both exec in place: the child keeps its pid, and our signals reach it.
 */
export function cappedCommand(command: string, args: string[], caps: ProcessCaps): [string, string[], { env?: NodeJS.ProcessEnv }] {
  let argv = [command, ...args];
  let env: NodeJS.ProcessEnv | undefined;
  if (caps.memoryBytes > 0) {
    argv = ['prlimit', `--as=${caps.memoryBytes}`, '--', ...argv];
    // glibc gives each thread a 64 MiB malloc arena of address space; two are plenty for ffmpeg and keep the cap about real memory.
    env = { ...process.env, MALLOC_ARENA_MAX: '2' };
  }
  if (caps.niceness) argv = ['nice', '-n', String(caps.niceness), ...argv]; // coreutils; execs in place too
  if (SETPRIV) argv = [SETPRIV, '--pdeathsig', 'KILL', '--', ...argv];
  return [argv[0], argv.slice(1), env ? { env } : {}];
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/** ffmpeg/ffprobe demuxers for each container the contract accepts (CONTRACT §8.11); image2 reads images by file extension. */
export const DEMUXERS: Readonly<Record<string, string>> = Object.freeze({
  jpeg: 'jpeg_pipe,image2',
  png: 'png_pipe,image2',
  bmp: 'bmp_pipe,image2',
  webp: 'webp_pipe,image2',
  mp4: 'mov',
  mov: 'mov',
  wav: 'wav',
  mp3: 'mp3',
});

/** The `-format_whitelist` value for these containers. */
export function demuxersFor(containers: readonly string[]): string {
  return [...new Set(containers.flatMap((c) => (DEMUXERS[c] ?? '').split(',').filter(Boolean)))].join(',');
}

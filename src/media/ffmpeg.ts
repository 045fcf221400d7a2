import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cappedCommand, DEMUXERS, demuxersFor, NO_CAPS, type ProcessCaps } from './caps.ts';

/** ffmpeg exited with an error; `detail` is the tail of what it printed. */
export class FfmpegError extends Error {
  readonly detail: string;
  constructor(message: string, detail: string) {
    super(message);
    this.detail = detail;
  }
}

export type FfmpegRun = {
  ffmpegPath: string;
  caps?: ProcessCaps;
  args: string[];
  signal: AbortSignal;
  /** Where relative paths in the arguments point. */
  cwd?: string;
  /** Output length in seconds, to turn `-progress` times into a fraction. */
  durationSec?: number;
  /** Wall time one command may take before it is killed (CONTRACT §8.2); default 10 minutes. */
  timeoutMs?: number;
  onProgress?(fraction: number): void;
};

const STDERR_TAIL = 4000;

/**
 * Runs ffmpeg with an argument array (no shell), reading `-progress pipe:1`. Killed at once on
 * abort. Its progress pipe also ends it if this process dies: the next write gets SIGPIPE.
 */
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export function runFfmpeg({ ffmpegPath, caps = NO_CAPS, args, signal, cwd, durationSec, onProgress, timeoutMs = DEFAULT_TIMEOUT_MS }: FfmpegRun): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const all = ['-nostdin', '-hide_banner', '-v', 'error', '-progress', 'pipe:1', '-stats_period', '0.25', ...localInputsOnly(args)];
    const [command, commandArgs, options] = cappedCommand(ffmpegPath, all, caps);
    const child = spawn(command, commandArgs, { ...options, stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^out_time_us=(\d+)$/.exec(line);
      if (match && durationSec && onProgress) onProgress(Math.min(1, Number(match[1]) / 1e6 / durationSec));
    });
    const abort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', abort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      reject(new FfmpegError(`could not start ${ffmpegPath}: ${error.message}`, ''));
    });
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      if (signal.aborted) return reject(signal.reason);
      if (timedOut) return reject(new FfmpegError(`ffmpeg ran past its ${Math.round(timeoutMs / 1000)} s time cap`, stderr.trim()));
      if (code === 0) return resolve();
      reject(new FfmpegError(`ffmpeg exited with ${code ?? killedBy}`, stderr.trim()));
    });
  });
}

// The contract's containers, and lavfi for the sources the local engine draws itself.
const INPUT_FORMATS = `${demuxersFor(Object.keys(DEMUXERS))},lavfi`;

/** Every input is a local file of an allowed container (CONTRACT §8.11): both whitelists before each `-i`. */
function localInputsOnly(args: string[]): string[] {
  return args.flatMap((arg) => (arg === '-i' ? ['-protocol_whitelist', 'file', '-format_whitelist', INPUT_FORMATS, arg] : [arg]));
}

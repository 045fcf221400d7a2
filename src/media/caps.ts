/** Bounds on one ffmpeg or ffprobe process (CONTRACT §8.2): its address space, in bytes; 0 = none. */
export type ProcessCaps = { memoryBytes: number };

export const NO_CAPS: ProcessCaps = { memoryBytes: 0 };

/**
 * The command and arguments that run `command` under the caps: through util-linux's `prlimit`
 * (RLIMIT_AS), so a hostile file makes the child fail, never this process or the machine.
 */
export function cappedCommand(command: string, args: string[], caps: ProcessCaps): [string, string[], { env?: NodeJS.ProcessEnv }] {
  if (caps.memoryBytes <= 0) return [command, args, {}];
  // glibc gives each thread a 64 MiB malloc arena of address space; two are plenty for ffmpeg and keep the cap about real memory.
  return ['prlimit', [`--as=${caps.memoryBytes}`, '--', command, ...args], { env: { ...process.env, MALLOC_ARENA_MAX: '2' } }];
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

import { copyFile, link, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { invalidField } from '../contract/errors.ts';
import { checkMediaLimits, formatBytes, type MediaInfo, type MediaNeed } from '../contract/media-limits.ts';
import { downloadToFile, fetchFailure, TooLargeError } from '../net/guarded-download.ts';
import type { OutboundGuard } from '../net/outbound-guard.ts';
import { ProbeError, runFfprobe, toMediaInfo } from './probe.ts';

/** One request medium, fetched, probed and within its limits. */
export type IngestedMedium = MediaNeed & { path: string; info: MediaInfo };

export type IngestDeps = {
  guard: OutboundGuard;
  ffprobePath: string;
  inputsDir: string;
  deadlineMs: number;
  /** vidgate's own uploads: a file URL is read from disk, not fetched (the guard would refuse this host anyway). */
  ownFiles?: { localPathOf(url: string, field: string): Promise<string | null> };
};

/**
 * Fetches every medium a request names (at once, under one deadline), probes each and checks
 * its limits. All-or-nothing: on any failure the task's input folder is removed.
 */
export async function ingestMedia(deps: IngestDeps, taskId: string, needs: MediaNeed[]): Promise<IngestedMedium[]> {
  if (needs.length === 0) return [];
  const folder = inputFolder(deps.inputsDir, taskId);
  await mkdir(folder, { recursive: true });
  const deadline = AbortSignal.timeout(deps.deadlineMs);
  try {
    return await Promise.all(needs.map((need) => ingestOne(deps, folder, need, deadline)));
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

export function inputFolder(inputsDir: string, taskId: string): string {
  return path.join(inputsDir, taskId);
}

async function ingestOne(deps: IngestDeps, folder: string, need: MediaNeed, deadline: AbortSignal): Promise<IngestedMedium> {
  const file = path.join(folder, need.field.replace(/[^a-z0-9_]+/gi, '-'));
  const own = await deps.ownFiles?.localPathOf(need.url, need.field);
  let bytes: number;
  try {
    bytes = own ? await linkInto(own, file, need.limits.maxBytes) : await downloadToFile(deps.guard, need.url, file, { maxBytes: need.limits.maxBytes, signal: deadline });
  } catch (error) {
    throw invalidField(need.field, ingestFailure(error, need, deps.deadlineMs, deadline));
  }
  let info: MediaInfo;
  try {
    info = toMediaInfo(await runFfprobe(deps.ffprobePath, file, deadline), bytes);
  } catch (error) {
    if (error instanceof ProbeError) throw invalidField(need.field, `${error.message} (expected ${need.limits.kind})`);
    throw error;
  }
  checkMediaLimits(need.field, info, need.limits);
  return { ...need, path: file, info };
}

/** An uploaded file becomes a task input by a hard link (a copy across file systems), so it outlives the upload's expiry. */
async function linkInto(source: string, file: string, maxBytes: number): Promise<number> {
  const { size } = await stat(source);
  if (size > maxBytes) throw new TooLargeError('over the limit');
  await link(source, file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EXDEV') throw error;
    return copyFile(source, file);
  });
  return size;
}

function ingestFailure(error: unknown, need: MediaNeed, deadlineMs: number, deadline: AbortSignal): string {
  if (error instanceof TooLargeError) return `file is larger than the ${formatBytes(need.limits.maxBytes)} limit`;
  return fetchFailure(error, deadline, deadlineMs);
}

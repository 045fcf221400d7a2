import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiError, invalidField } from '../contract/errors.ts';
import { checkFrameSize, checkMediaFormat, checkMediaLimits, formatBytes, type MediaInfo, type MediaNeed } from '../contract/media-limits.ts';
import { downloadToFile, fetchFailure, TooLargeError } from '../net/guarded-download.ts';
import type { OutboundGuard } from '../net/outbound-guard.ts';
import type { Slots } from '../util/slots.ts';
import { demuxersFor, type ProcessCaps } from './caps.ts';
import { readMediaHeader } from './header.ts';
import { ObjectMissing, type ObjectStore, StorageUnavailable } from '../storage/index.ts';
import { storageOutage } from '../storage/serve.ts';
import { ProbeError, runFfprobe, toMediaInfo } from './probe.ts';

/** One request medium, fetched, probed, within its limits and stored: `path` is its object key. */
export type IngestedMedium = MediaNeed & { path: string; info: MediaInfo };

/** A task's stored inputs are the objects under this prefix. */
export function inputsPrefix(taskId: string): string {
  return `inputs/${taskId}/`;
}

export type IngestDeps = {
  guard: OutboundGuard;
  ffprobePath: string;
  /** Where inputs are kept once accepted (CONTRACT §12); they are fetched and probed in its scratch folder first. */
  objects: ObjectStore;
  deadlineMs: number;
  /** Media fetched and probed at once in this process (VIDGATE_INGEST_CONCURRENCY). */
  slots: Slots;
  /** Bounds on each ffprobe (VIDGATE_MEDIA_MEMORY). */
  caps: ProcessCaps;
  /** vidgate's own uploads: a file URL is read from storage, not fetched (the guard would refuse this host anyway). */
  ownFiles?: { objectKeyOf(url: string, field: string): Promise<string | null> };
};

/**
 * Fetches every medium a request names (at once, under one deadline) into scratch, reads each
 * header, probes it and checks its limits, then stores them as the task's input objects.
 * All-or-nothing: the first failure stops the other downloads and nothing is stored.
 */
export async function ingestMedia(deps: IngestDeps, taskId: string, needs: MediaNeed[]): Promise<IngestedMedium[]> {
  if (needs.length === 0) return [];
  const folder = path.join(deps.objects.scratchDir, 'ingest', taskId);
  await mkdir(folder, { recursive: true });
  try {
    const media = await fetchAll(deps, folder, needs);
    // Accepted: each input becomes an object; a storage outage here is the server's, not the request's.
    await Promise.all(media.map((medium) => deps.objects.moveIn(`${inputsPrefix(taskId)}${path.basename(medium.path)}`, medium.path)))
      .catch(async (error: unknown) => {
        await deps.objects.deletePrefix(inputsPrefix(taskId)).catch(() => {});
        throw error instanceof StorageUnavailable ? storageOutage(error) : error;
      });
    return media.map((medium) => ({ ...medium, path: `${inputsPrefix(taskId)}${path.basename(medium.path)}` }));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Every medium at once under one deadline; the first failure stops the others. */
async function fetchAll(deps: IngestDeps, folder: string, needs: MediaNeed[]): Promise<IngestedMedium[]> {
  const deadline = AbortSignal.timeout(deps.deadlineMs);
  const siblings = new AbortController();
  const signal = AbortSignal.any([deadline, siblings.signal]);
  let firstFailure: unknown;
  const outcomes = await Promise.allSettled(
    needs.map((need) =>
      ingestOne(deps, folder, need, { deadline, signal }).catch((error: unknown) => {
        if (!siblings.signal.aborted) {
          firstFailure = error;
          siblings.abort();
        }
        throw error;
      }),
    ),
  );
  if (siblings.signal.aborted) throw firstFailure;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<IngestedMedium>).value);
}

type Signals = { deadline: AbortSignal; signal: AbortSignal };

async function ingestOne(deps: IngestDeps, folder: string, need: MediaNeed, signals: Signals): Promise<IngestedMedium> {
  if (!(await deps.slots.acquire(signals.signal))) throw busy(signals.deadline, deps.deadlineMs);
  try {
    const file = path.join(folder, need.field.replace(/[^a-z0-9_]+/gi, '-'));
    const bytes = await fetchInto(deps, need, file, signals);
    // The header first: a format the field refuses, or an image too large to decode, is refused before ffprobe reads it.
    const header = await readMediaHeader(file);
    if (header.container) checkMediaFormat(need.field, header.container, need.limits, header.name);
    if (header.width && header.height) checkFrameSize(need.field, header.width, header.height, need.limits);
    let info: MediaInfo;
    try {
      info = toMediaInfo(await runFfprobe(deps.ffprobePath, file, { signal: signals.signal, caps: deps.caps, formats: demuxersFor(need.limits.formats) }), bytes);
    } catch (error) {
      if (error instanceof ProbeError) throw invalidField(need.field, `${error.message} (expected ${need.limits.kind}: ${need.limits.formats.join(', ')})`);
      if (signals.deadline.aborted) throw invalidField(need.field, `could not be fetched and probed within ${deps.deadlineMs / 1000} s`);
      throw error;
    }
    checkMediaLimits(need.field, info, need.limits);
    return { ...need, path: file, info };
  } finally {
    deps.slots.release();
  }
}

async function fetchInto(deps: IngestDeps, need: MediaNeed, file: string, { deadline, signal }: Signals): Promise<number> {
  try {
    if (need.inline !== undefined) return await decodeInto(need.inline, file, need.limits.maxBytes);
    const own = await deps.ownFiles?.objectKeyOf(need.url, need.field);
    return own ? await copyUpload(deps.objects, own, file, need.limits.maxBytes) : await downloadToFile(deps.guard, need.url, file, { maxBytes: need.limits.maxBytes, signal });
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof TooLargeError) throw invalidField(need.field, `file is larger than the ${formatBytes(need.limits.maxBytes)} limit`);
    throw invalidField(need.field, fetchFailure(error, deadline, deps.deadlineMs));
  }
}

/** No ingest slot came free within the media deadline: the server is busy, not the request wrong. */
function busy(deadline: AbortSignal, deadlineMs: number): Error {
  if (!deadline.aborted) return new Error('stopped: another medium of the request failed');
  return new ApiError('service_unavailable', `media: the server is busy fetching other media and could not start within ${deadlineMs / 1000} s; retry shortly`, {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(deadlineMs / 1000))) },
  });
}

/** An inline (base64) medium written to its input file, refused past `maxBytes` decoded. */
async function decodeInto(base64: string, file: string, maxBytes: number): Promise<number> {
  if (Math.floor((base64.length * 3) / 4) > maxBytes + 2) throw new TooLargeError('over the limit');
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length > maxBytes) throw new TooLargeError('over the limit');
  await writeFile(file, bytes);
  return bytes.length;
}

/** An uploaded file becomes a task input by a copy of its own (a hard link on a disk), so it outlives the upload's expiry. */
async function copyUpload(objects: ObjectStore, key: string, file: string, maxBytes: number): Promise<number> {
  const info = await objects.head(key);
  if (!info) throw new ObjectMissing(key);
  if (info.size > maxBytes) throw new TooLargeError('over the limit');
  await objects.copyToFile(key, file);
  return info.size;
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../contract/errors.ts';
import { randomChars } from '../contract/ids.ts';
import { PARTIAL_NAME } from '../storage/file-store.ts';
import { MAX_PRESIGN_SECONDS, type ObjectStore } from '../storage/index.ts';
import { type ObjectUrlMode, redirectToObject, sendObject } from '../storage/serve.ts';

// The task id plus a secret part, so result URLs can't be guessed from task ids.
export const RESULT_NAME_PATTERN = /^(task-unified-\d{1,12}-[a-z0-9]{8})-[a-z0-9]{20}\.mp4$/;
const RESULTS = 'results/';

export type ResultUrlOptions = {
  /** Origin of vidgate's own result URLs (VIDGATE_PUBLIC_URL). */
  publicUrl: string;
  /** VIDGATE_RESULT_URLS; default proxy. */
  mode?: ObjectUrlMode;
  /** How long a result is kept after its task ends (VIDGATE_RESULT_TTL): a presigned URL lives as long. */
  ttlMs?: number;
};

/** Finished videos: objects `results/<name>` of the storage, served at `<public url>/v1/results/<name>` or presigned (CONTRACT §12). */
export class ResultFiles {
  private readonly objects: ObjectStore;
  private readonly options: Required<ResultUrlOptions>;

  constructor(objects: ObjectStore, options: ResultUrlOptions) {
    this.objects = objects;
    this.options = { mode: 'proxy', ttlMs: 24 * 3_600_000, ...options };
  }

  /** Moves a rendered file into the storage under a new unguessable name; returns its stored path and, in presigned mode, its URL. */
  async publish(file: string, taskId: string): Promise<{ path: string; url: string | null }> {
    const key = `${RESULTS}${taskId}-${randomChars(20)}.mp4`;
    await this.objects.moveIn(key, file, { contentType: 'video/mp4' });
    const url = this.options.mode === 'presigned' ? await this.objects.presign(key, Math.min(MAX_PRESIGN_SECONDS, this.options.ttlMs / 1000), { contentType: 'video/mp4' }) : null;
    return { path: key, url };
  }

  async remove(storedPath: string): Promise<void> {
    await this.objects.delete(storedPath);
  }

  /** vidgate's own URL of a result (proxy and redirect modes). */
  url(storedPath: string): string {
    return `${this.options.publicUrl}/v1/${storedPath}`;
  }

  /** Answers GET /v1/results/<name>: the bytes (proxy) or a 302 to a fresh presigned URL (redirect, presigned). */
  async serve(request: FastifyRequest, reply: FastifyReply, name: string, expiresAt: number, now: number) {
    const missing = () => new ApiError('not_found', 'this result does not exist or has expired');
    const key = `${RESULTS}${name}`;
    if (this.options.mode !== 'proxy') return redirectToObject(reply, this.objects, key, (expiresAt - now) / 1000, { contentType: 'video/mp4', missing });
    return sendObject(request, reply, this.objects, key, { contentType: 'video/mp4', cacheControl: 'private, max-age=3600', missing });
  }

  /** The task a result file name belongs to, or null if it is not one. */
  static taskIdOf(name: string): string | null {
    return RESULT_NAME_PATTERN.exec(name)?.[1] ?? null;
  }

  /** The names of result objects and of partial copies, in batches of `size`, with their times. */
  async *fileNames(size: number): AsyncGenerator<{ name: string; modified: number }[]> {
    for await (const batch of this.objects.list(RESULTS, size)) {
      const names = batch.map((object) => ({ name: object.key.slice(RESULTS.length), modified: object.modified }))
        .filter(({ name }) => RESULT_NAME_PATTERN.test(name) || PARTIAL_NAME.test(name));
      if (names.length) yield names;
    }
  }

  /** Removes result `name` (listed with time `modified`) if that is before `before` (ms); true if it did. */
  async removeIfOlder(name: string, modified: number, before: number): Promise<boolean> {
    if (modified >= before) return false;
    await this.objects.delete(`${RESULTS}${name}`);
    return true;
  }
}

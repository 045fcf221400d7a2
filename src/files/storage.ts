import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../contract/errors.ts';
import { randomChars } from '../contract/ids.ts';
import { PARTIAL_NAME } from '../storage/file-store.ts';
import { MAX_PRESIGN_SECONDS, type ObjectStore } from '../storage/index.ts';
import { type ObjectUrlMode, redirectToObject, sendObject } from '../storage/serve.ts';
import { fileNamesIn, removeIfOlderIn } from '../util/dir-files.ts';

/** More bytes arrived than an upload may have. */
export class UploadTooLargeError extends Error {}

const RECEIVING = /^\.upload-[a-z0-9]{16}\.part$/;
export const STORED_FILE_NAME = /^(file_[a-z0-9]{24})\.[a-z0-9]{2,4}$/;
const FILES = 'files/';

/** What the Files API hands out for a stored file: where it is, what it is, and until when. */
export type StoredFileRef = { storedName: string; fileName: string; mimeType: string; expiresAt: number };

/**
 * Uploaded files: received into a hidden local file (sniffed there), then moved into the storage
 * as `files/<stored name>`; served through vidgate or presigned (CONTRACT §12).
 */
export class UploadedFiles {
  private readonly objects: ObjectStore;
  private readonly mode: ObjectUrlMode;
  /** Where uploads arrive before they are whole and checked. */
  private readonly receiving: string;

  constructor(objects: ObjectStore, mode: ObjectUrlMode = 'proxy') {
    this.objects = objects;
    this.mode = mode;
    this.receiving = path.join(objects.scratchDir, 'uploads');
  }

  /** Streams `source` to a hidden partial file, stopping as soon as more than `maxBytes` arrive; never holds the whole file in memory. */
  async receive(source: Readable, maxBytes: number): Promise<{ partial: string; bytes: number }> {
    const partial = await this.partialPath();
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(bytes > maxBytes ? new UploadTooLargeError() : null, chunk);
      },
    });
    try {
      await pipeline(source, counter, createWriteStream(partial));
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return { partial, bytes };
  }

  /** A new hidden local path to receive into: nothing serves it, and the sweeper removes it only once abandoned. */
  async partialPath(): Promise<string> {
    await mkdir(this.receiving, { recursive: true });
    return path.join(this.receiving, `.upload-${randomChars(16)}.part`);
  }

  /** Moves a received file into the storage under its stored name. */
  async publish(partial: string, storedName: string, mimeType: string): Promise<void> {
    await this.objects.moveIn(FILES + storedName, partial, { contentType: mimeType });
  }

  /** Drops a received file that was not published. */
  async discard(partial: string): Promise<void> {
    await rm(partial, { force: true });
  }

  async remove(storedName: string): Promise<void> {
    await this.objects.delete(FILES + path.basename(storedName));
  }

  /** The stored name of a file a presigned URL of this storage names, or null when the URL is not one. */
  async storedNameOfUrl(url: string): Promise<string | null> {
    const key = await this.objects.keyOfPresignedUrl(url);
    return key?.startsWith(FILES) ? key.slice(FILES.length) : null;
  }

  /** The object key of a stored file. */
  keyOf(storedName: string): string {
    return FILES + path.basename(storedName);
  }

  /** Presigned storage URLs of a file (file_url, download_url) when VIDGATE_RESULT_URLS=presigned, valid until it expires; else null. */
  async presigned(file: StoredFileRef, now: number): Promise<{ fileUrl: string; downloadUrl: string } | null> {
    if (this.mode !== 'presigned') return null;
    const seconds = Math.min(MAX_PRESIGN_SECONDS, (file.expiresAt - now) / 1000);
    const key = this.keyOf(file.storedName);
    const [fileUrl, downloadUrl] = await Promise.all([
      this.objects.presign(key, seconds, { contentType: file.mimeType }),
      this.objects.presign(key, seconds, { contentType: file.mimeType, downloadName: file.fileName }),
    ]);
    return fileUrl && downloadUrl ? { fileUrl, downloadUrl } : null;
  }

  /** Answers a file's URL: its bytes (proxy) or a 302 to the storage (redirect, presigned); `download` adds an attachment name. */
  async serve(request: FastifyRequest, reply: FastifyReply, file: StoredFileRef, download: boolean, now: number) {
    const missing = () => new ApiError('not_found', 'this file does not exist or has expired');
    const options = { contentType: file.mimeType, downloadName: download ? file.fileName : undefined, missing };
    if (this.mode !== 'proxy') return redirectToObject(reply, this.objects, this.keyOf(file.storedName), (file.expiresAt - now) / 1000, options);
    return sendObject(request, reply, this.objects, this.keyOf(file.storedName), { ...options, cacheControl: 'private, max-age=3600' });
  }

  /** Stored files (with their times), and abandoned partial copies, in batches of `size` (for the sweeper's orphan pass). */
  async *fileNames(size: number): AsyncGenerator<{ name: string; modified: number }[]> {
    for await (const batch of this.objects.list(FILES, size)) {
      const names = batch.map((object) => ({ name: object.key.slice(FILES.length), modified: object.modified }))
        .filter(({ name }) => STORED_FILE_NAME.test(name) || PARTIAL_NAME.test(name));
      if (names.length) yield names;
    }
  }

  /** Removes stored file `name` (listed with time `modified`) if that is before `before` (ms); true if it did. */
  async removeIfOlder(name: string, modified: number, before: number): Promise<boolean> {
    if (modified >= before) return false;
    await this.objects.delete(FILES + name);
    return true;
  }

  /** Removes uploads still being received that nothing has written since `before` (a crash mid-upload); how many. */
  async removeAbandoned(before: number): Promise<number> {
    let removed = 0;
    await mkdir(this.receiving, { recursive: true });
    for await (const names of fileNamesIn(this.receiving, (name) => RECEIVING.test(name), 200)) {
      for (const name of names) if (await removeIfOlderIn(this.receiving, name, before)) removed++;
    }
    return removed;
  }
}

import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomChars } from '../contract/ids.ts';
import { fileNamesIn, removeIfOlderIn } from '../util/dir-files.ts';

/** More bytes arrived than an upload may have. */
export class UploadTooLargeError extends Error {}

const PARTIAL = /^\.upload-[a-z0-9]{16}\.part$/;
export const STORED_FILE_NAME = /^(file_[a-z0-9]{24})\.[a-z0-9]{2,4}$/;

/** Uploaded files under `<storage dir>/files`: received under a hidden name, renamed into place when whole. */
export class UploadedFiles {
  readonly dir: string;

  constructor(storageDir: string) {
    this.dir = path.join(storageDir, 'files');
    mkdirSync(this.dir, { recursive: true });
  }

  /** Streams `source` to a hidden partial file, stopping as soon as more than `maxBytes` arrive; never holds the whole file in memory. */
  async receive(source: Readable, maxBytes: number): Promise<{ partial: string; bytes: number }> {
    const partial = this.partialPath();
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

  /** A new hidden path to receive into (PARTIAL): nothing serves it, and the sweeper removes it only once abandoned. */
  partialPath(): string {
    return path.join(this.dir, `.upload-${randomChars(16)}.part`);
  }

  /** Gives a received file its stored name. */
  async publish(partial: string, storedName: string): Promise<void> {
    await rename(partial, path.join(this.dir, storedName));
  }

  async remove(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
  }

  pathOf(storedName: string): string {
    return path.join(this.dir, path.basename(storedName));
  }

  /** Stored and partial file names, in batches of `size` (for the sweeper's orphan pass). */
  fileNames(size: number): AsyncGenerator<string[]> {
    return fileNamesIn(this.dir, (name) => STORED_FILE_NAME.test(name) || PARTIAL.test(name), size);
  }

  /** Removes `name` if it was last written before `before` (ms); true if it did. */
  removeIfOlder(name: string, before: number): Promise<boolean> {
    return removeIfOlderIn(this.dir, name, before);
  }
}

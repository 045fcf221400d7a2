import { createReadStream, createWriteStream } from 'node:fs';
import { access, copyFile, link, mkdir, opendir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomChars } from '../contract/ids.ts';
import { type ByteRange, type ObjectInfo, ObjectMissing, type ObjectStore } from './object-store.ts';

/** A hidden partial file beside its target: nothing serves it, and the orphan sweep removes it once abandoned. */
export const PARTIAL_NAME = /^\..+\.[a-z0-9]{8}\.part$/;

/** Objects as files under a folder (the default, and several nodes sharing one mounted folder). */
export class FileObjectStore implements ObjectStore {
  readonly kind = 'file' as const;
  readonly location: string;
  readonly scratchDir: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = `file://${this.root}`;
    this.scratchDir = path.join(this.root, '.scratch');
  }

  private pathOf(key: string): string {
    const file = path.resolve(this.root, key);
    if (!file.startsWith(`${this.root}${path.sep}`)) throw new Error(`object key outside the storage folder: ${key}`);
    return file;
  }

  async put(key: string, source: Readable): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const partial = partialOf(target);
    try {
      await pipeline(source, createWriteStream(partial));
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /**
   * Renames the file into place; across file systems (a mounted shared folder) copies it under a
   * partial name first, so the object appears only when whole. Its time is now: the orphan sweep
   * judges an object by its age.
   */
  async moveIn(key: string, file: string): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const now = new Date();
    await utimes(file, now, now);
    try {
      await rename(file, target);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    }
    const partial = partialOf(target);
    try {
      await copyFile(file, partial);
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    await rm(file, { force: true });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const stats = await stat(this.pathOf(key)).catch(() => null);
    return stats?.isFile() ? { key, size: stats.size, modified: stats.mtimeMs } : null;
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.pathOf(key);
    await access(file).catch(() => {
      throw new ObjectMissing(key);
    });
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async localFile(key: string): Promise<string> {
    const file = this.pathOf(key);
    await access(file).catch(() => {
      throw new ObjectMissing(key);
    });
    return file;
  }

  async copyToFile(key: string, file: string): Promise<void> {
    const source = await this.localFile(key);
    await link(source, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EXDEV') throw error;
      return copyFile(source, file);
    });
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  /** Every file under the prefix's folder, at any depth (as S3 lists keys). */
  async *list(prefix: string, batch: number): AsyncGenerator<ObjectInfo[]> {
    const dir = this.pathOf(prefix);
    const entries = await opendir(dir, { recursive: true }).catch(() => null);
    if (!entries) return;
    const found: ObjectInfo[] = [];
    for await (const entry of entries) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const stats = await stat(file).catch(() => null);
      if (stats) found.push({ key: path.relative(this.root, file).split(path.sep).join('/'), size: stats.size, modified: stats.mtimeMs });
      if (found.length === batch) yield found.splice(0);
    }
    if (found.length) yield found;
  }

  async presign(): Promise<string | null> {
    return null;
  }

  async keyOfPresignedUrl(): Promise<string | null> {
    return null;
  }

  async check(): Promise<void> {
    await mkdir(this.scratchDir, { recursive: true });
    await access(this.root);
  }
}

function partialOf(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomChars(8)}.part`); // PARTIAL_NAME
}

import { mkdirSync } from 'node:fs';
import { copyFile, rename, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { randomChars } from '../contract/ids.ts';
import { fileNamesIn, removeIfOlderIn } from '../util/dir-files.ts';

// The task id plus a secret part, so result URLs can't be guessed from task ids.
export const RESULT_NAME_PATTERN = /^(task-unified-\d{1,12}-[a-z0-9]{8})-[a-z0-9]{20}\.mp4$/;
const RESULTS = 'results';

/** Finished videos under `<storage dir>/results`, served at `<public url>/v1/results/<name>`. */
export class ResultFiles {
  readonly dir: string;
  private readonly publicUrl: string;

  constructor(storageDir: string, publicUrl: string) {
    this.dir = path.join(storageDir, RESULTS);
    mkdirSync(this.dir, { recursive: true });
    this.publicUrl = publicUrl;
  }

  /** Moves a rendered file into place under a new unguessable name; returns its stored path. */
  async publish(file: string, taskId: string): Promise<string> {
    const name = `${taskId}-${randomChars(20)}.mp4`;
    // The sweeper judges an unnamed file by its age: count it from now, not from when the render or download wrote it.
    const now = new Date();
    await utimes(file, now, now);
    await moveInto(file, this.dir, name);
    return `${RESULTS}/${name}`;
  }

  async remove(storedPath: string): Promise<void> {
    await rm(path.join(this.dir, path.basename(storedPath)), { force: true });
  }

  url(storedPath: string): string {
    return `${this.publicUrl}/v1/${storedPath}`;
  }

  /** The task a result file name belongs to, or null if it is not one. */
  static taskIdOf(name: string): string | null {
    return RESULT_NAME_PATTERN.exec(name)?.[1] ?? null;
  }

  /** The names of result files and of partial copies (moveInto), in batches of `size`. */
  fileNames(size: number): AsyncGenerator<string[]> {
    return fileNamesIn(this.dir, (name) => RESULT_NAME_PATTERN.test(name) || PARTIAL_NAME_PATTERN.test(name), size);
  }

  /** Removes `name` if it was last written before `before` (ms); true if it did. */
  removeIfOlder(name: string, before: number): Promise<boolean> {
    return removeIfOlderIn(this.dir, name, before);
  }
}

const PARTIAL_NAME_PATTERN = /^\..+\.[a-z0-9]{8}\.part$/;

/**
 * Moves `file` to `dir/name` so that the name appears only when the file is whole. A shared
 * storage dir is often another file system than the work dir, where rename fails with EXDEV:
 * then copy under a name nothing serves, and rename that.
 */
export async function moveInto(file: string, dir: string, name: string): Promise<void> {
  const target = path.join(dir, name);
  try {
    await rename(file, target);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  const partial = path.join(dir, `.${name}.${randomChars(8)}.part`); // PARTIAL_NAME_PATTERN
  try {
    await copyFile(file, partial);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  await rm(file, { force: true });
}

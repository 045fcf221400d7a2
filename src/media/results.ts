import { mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomChars } from '../contract/ids.ts';

// The task id plus a secret part, so result URLs can't be guessed from task ids.
export const RESULT_NAME_PATTERN = /^(task-unified-\d{1,12}-[a-z0-9]{8})-[a-z0-9]{20}\.mp4$/;
const RESULTS = 'results';

/** Finished videos under `<data dir>/results`, served at `<public url>/v1/results/<name>`. */
export class ResultFiles {
  readonly dir: string;
  private readonly publicUrl: string;

  constructor(dataDir: string, publicUrl: string) {
    this.dir = path.join(dataDir, RESULTS);
    mkdirSync(this.dir, { recursive: true });
    this.publicUrl = publicUrl;
  }

  /** Moves a rendered file into place under a new unguessable name; returns its stored path. */
  async publish(file: string, taskId: string): Promise<string> {
    const name = `${taskId}-${randomChars(20)}.mp4`;
    await rename(file, path.join(this.dir, name));
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
}

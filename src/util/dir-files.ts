import { opendir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** The names of the files in `dir` that `keep` accepts, in batches of `size`. */
export async function* fileNamesIn(dir: string, keep: (name: string) => boolean, size: number): AsyncGenerator<string[]> {
  let batch: string[] = [];
  for await (const entry of await opendir(dir)) {
    if (!entry.isFile() || !keep(entry.name)) continue;
    batch.push(entry.name);
    if (batch.length === size) yield batch.splice(0);
  }
  if (batch.length) yield batch;
}

/** Removes `dir/name` if it was last written before `before` (ms); true if it did. */
export async function removeIfOlderIn(dir: string, name: string, before: number): Promise<boolean> {
  const file = path.join(dir, path.basename(name));
  const stats = await stat(file).catch(() => null);
  if (!stats || stats.mtimeMs >= before) return false;
  await rm(file, { force: true });
  return true;
}

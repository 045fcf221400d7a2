import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A new folder on another file system than the temp dir (tmpfs /dev/shm), or null where there is none. */
export function otherFileSystemDir(prefix: string): string | null {
  if (!existsSync('/dev/shm')) return null;
  const dir = mkdtempSync(path.join('/dev/shm', prefix));
  if (statSync(dir).dev !== statSync(tmpdir()).dev) return dir;
  rmSync(dir, { recursive: true, force: true });
  return null;
}

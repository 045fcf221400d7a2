import type { StorageSettings } from '../config.ts';
import { FileObjectStore } from './file-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3ObjectStore } from './s3-store.ts';

export type { ObjectInfo, ObjectStore } from './object-store.ts';
export { MAX_PRESIGN_SECONDS, ObjectMissing, StorageUnavailable } from './object-store.ts';

/** The configured storage: a folder, or an S3-compatible bucket. */
export function openObjectStore(storage: StorageSettings): ObjectStore {
  return storage.kind === 'file' ? new FileObjectStore(storage.dir) : new S3ObjectStore(storage);
}

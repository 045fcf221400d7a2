import type { Readable } from 'node:stream';

/** An object as a listing or a head shows it; `modified` in unix ms. */
export type ObjectInfo = { key: string; size: number; modified: number };

/** A byte range, both ends included (as in HTTP). */
export type ByteRange = { start: number; end: number };

/**
 * Where inputs, results and uploads live (CONTRACT §12): a folder (`file`) or an S3-compatible
 * bucket (`s3`). Keys are relative paths such as `results/<name>`; an object appears only when
 * whole. Nothing outside src/storage knows which one is configured.
 */
export interface ObjectStore {
  readonly kind: 'file' | 's3';
  /** For messages: `file:///data/storage` or `s3://bucket/prefix`. */
  readonly location: string;
  /** A local folder to write files that will be moved in (on the same file system as the objects for `file`, so the move is a rename). */
  readonly scratchDir: string;
  /** Streams `source` (of any length) into `key`. */
  put(key: string, source: Readable, options?: { contentType?: string }): Promise<void>;
  /** Moves a local file in as `key`: the file is gone afterwards (renamed, or uploaded and removed). */
  moveIn(key: string, file: string, options?: { contentType?: string }): Promise<void>;
  head(key: string): Promise<ObjectInfo | null>;
  /** The object's bytes (or a range of them) as a stream; throws ObjectMissing when there is no such object. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** A local file with the object's bytes: the object itself for `file`, else a copy downloaded into `scratchDir`. */
  localFile(key: string, scratchDir: string): Promise<string>;
  /** Writes the object's bytes to a local `file` of the caller's (a hard link where the store is this disk). */
  copyToFile(key: string, file: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix` (which ends with `/`). */
  deletePrefix(prefix: string): Promise<void>;
  /** The objects under `prefix` (which ends with `/`), in batches of up to `batch`; hidden partial files too. */
  list(prefix: string, batch: number): AsyncGenerator<ObjectInfo[]>;
  /** A URL anyone may GET the object at for `expiresInS` seconds; null when the store cannot make one (`file`). */
  presign(key: string, expiresInS: number, options?: { downloadName?: string; contentType?: string }): Promise<string | null>;
  /** The key of an object a URL of `presign` names (whatever its signature or expiry), or null when it is not one of this store's. */
  keyOfPresignedUrl(url: string): Promise<string | null>;
  /** Throws, saying what is wrong, when the store cannot be read and written. */
  check(): Promise<void>;
}

/** The object asked for does not exist. */
export class ObjectMissing extends Error {}

/** The storage could not be reached or refused the request (not a missing object). */
export class StorageUnavailable extends Error {}

/** Presigned URLs of S3 live at most 7 days (SigV4). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

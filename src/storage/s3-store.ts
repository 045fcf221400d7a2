import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { randomChars } from '../contract/ids.ts';
import { type ByteRange, type ObjectInfo, ObjectMissing, type ObjectStore, StorageUnavailable } from './object-store.ts';

export type S3Options = {
  bucket: string;
  /** Keys are stored under this prefix ('' or ending with '/'). */
  prefix: string;
  /** An S3-compatible service's origin; none = AWS. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Local folder for files on their way in or out (a worker's scratch). */
  scratchDir: string;
};

/** Parts of a multipart upload: memory per upload is about queueSize × partSize. */
const PART_BYTES = 5 * 1024 * 1024; // S3's smallest part: memory per upload stays near queueSize × this
/** S3's largest single PUT. */
const SINGLE_PUT_BYTES = 5 * 1024 ** 3;

/**
 * Objects in an S3-compatible bucket (AWS S3, MinIO, R2, OSS…). Credentials come from the SDK's
 * default chain. Checksums only when required: with the SDK's default, a streamed PutObject to
 * a service that does not speak aws-chunked stores the chunk framing inside the object.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly scratchDir: string;
  private readonly client: S3Client;
  private readonly options: S3Options;

  constructor(options: S3Options) {
    this.options = options;
    this.location = `s3://${options.bucket}${options.prefix ? `/${options.prefix.replace(/\/$/, '')}` : ''}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.scratchDir = options.scratchDir;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3000, socketTimeout: 60_000 },
    });
  }

  private full(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  async put(key: string, source: Readable, options: { contentType?: string } = {}): Promise<void> {
    await this.call(key, () => new Upload({
      client: this.client, queueSize: 2, partSize: PART_BYTES, leavePartsOnError: false,
      params: { Bucket: this.options.bucket, Key: this.full(key), Body: source, ContentType: options.contentType },
    }).done());
  }

  /** A file of known length goes up in one streamed PUT (up to S3's 5 GB), holding no parts in memory; a larger one in parts. */
  async moveIn(key: string, file: string, options: { contentType?: string } = {}): Promise<void> {
    const { size } = await stat(file);
    if (size > SINGLE_PUT_BYTES) await this.put(key, createReadStream(file), options);
    else {
      await this.call(key, () => this.client.send(new PutObjectCommand({
        Bucket: this.options.bucket, Key: this.full(key), Body: createReadStream(file), ContentLength: size, ContentType: options.contentType,
      })));
    }
    await rm(file, { force: true });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.full(key) }));
      return { key, size: answer.ContentLength ?? 0, modified: answer.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (isMissing(error)) return null;
      throw unavailable(error, this.location);
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const answer = await this.call(key, () => this.client.send(new GetObjectCommand({
      Bucket: this.options.bucket, Key: this.full(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined,
    })));
    return answer.Body as Readable;
  }

  async localFile(key: string, scratchDir: string): Promise<string> {
    await mkdir(scratchDir, { recursive: true });
    const file = path.join(scratchDir, `${randomChars(8)}-${path.basename(key)}`);
    await this.copyToFile(key, file);
    return file;
  }

  async copyToFile(key: string, file: string): Promise<void> {
    try {
      await pipeline(await this.read(key), createWriteStream(file));
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.call(key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.full(key) })));
  }

  async deletePrefix(prefix: string): Promise<void> {
    for await (const batch of this.list(prefix, 1000)) {
      await this.call(prefix, () => this.client.send(new DeleteObjectsCommand({
        Bucket: this.options.bucket, Delete: { Objects: batch.map((object) => ({ Key: this.full(object.key) })), Quiet: true },
      })));
    }
  }

  async *list(prefix: string, batch: number): AsyncGenerator<ObjectInfo[]> {
    let token: string | undefined;
    do {
      const page = await this.call(prefix, () => this.client.send(new ListObjectsV2Command({
        Bucket: this.options.bucket, Prefix: this.full(prefix), MaxKeys: batch, ContinuationToken: token,
      })));
      const objects = (page.Contents ?? []).map((object) => ({
        key: object.Key!.slice(this.options.prefix.length), size: object.Size ?? 0, modified: object.LastModified?.getTime() ?? 0,
      }));
      if (objects.length) yield objects;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async presign(key: string, expiresInS: number, options: { downloadName?: string; contentType?: string } = {}): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.options.bucket, Key: this.full(key), ResponseContentType: options.contentType,
      ResponseContentDisposition: options.downloadName ? `attachment; filename="${options.downloadName}"` : undefined,
    });
    return getSignedUrl(this.client, command, { expiresIn: Math.max(1, Math.floor(expiresInS)) });
  }

  private presignedBase?: Promise<string>;

  async keyOfPresignedUrl(url: string): Promise<string | null> {
    // Where this store's presigned URLs start (the endpoint, path or host style, the prefix): learnt from one it makes.
    this.presignedBase ??= this.presign('k', 60).then((probe) => probe.slice(0, probe.indexOf('?') - 1));
    const base = await this.presignedBase;
    const bare = url.split(/[?#]/)[0];
    if (!bare.startsWith(base) || bare.length === base.length) return null;
    try {
      return decodeURIComponent(bare.slice(base.length));
    } catch {
      return null;
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (error) {
      const status = (error as S3ServiceException).$metadata?.httpStatusCode;
      if (status === 404) throw new StorageUnavailable(`VIDGATE_STORAGE_URL: the bucket "${this.options.bucket}" does not exist (${this.location})`);
      if (status === 403 || status === 401) {
        throw new StorageUnavailable(`VIDGATE_STORAGE_URL: ${this.location} refused the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the SDK's profile)`);
      }
      throw unavailable(error, this.location);
    }
    await mkdir(this.scratchDir, { recursive: true });
  }

  /** Runs a request: a missing object becomes ObjectMissing, any other failure StorageUnavailable. */
  private async call<T>(key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (isMissing(error)) throw new ObjectMissing(key);
      throw unavailable(error, this.location);
    }
  }
}

function isMissing(error: unknown): boolean {
  const e = error as S3ServiceException;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'TimeoutError']);

function unavailable(error: unknown, location: string): StorageUnavailable {
  if (error instanceof StorageUnavailable) return error;
  const e = error as S3ServiceException & { code?: string };
  const code = e?.code ?? e?.name;
  if (code && UNREACHABLE.has(code)) return new StorageUnavailable(`VIDGATE_S3_ENDPOINT: cannot reach ${location} (${code}); is the storage service running?`);
  const why = e?.name && e.name !== 'Error' ? `${e.name}${e.message ? `: ${e.message}` : ''}` : (e?.code ?? String(error));
  return new StorageUnavailable(`storage ${location} failed: ${why}`);
}

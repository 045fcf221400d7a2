import type { Readable } from 'node:stream';
import type { Caller } from '../auth/accounts.ts';
import { ApiError, invalidField } from '../contract/errors.ts';
import { type FileData, FILE_ID_PATTERN, type QuotaData, type UploadNames, uploadNames } from '../contract/files.ts';
import { randomChars } from '../contract/ids.ts';
import { formatBytes } from '../contract/media-limits.ts';
import { downloadToFile, fetchFailure, TooLargeError } from '../net/guarded-download.ts';
import type { OutboundGuard } from '../net/outbound-guard.ts';
import type { Db, Store } from '../store/db.ts';
import { isPostgres } from '../store/dialect.ts';
import type { FilesTable } from '../store/schema.ts';
import type { Clock } from '../util/clock.ts';
import { ACCEPTED_FILE_TYPES, checkUploadPath, FILE_KINDS, safeFileName, sniffFileType, uploadFolder } from './kinds.ts';
import { STORED_FILE_NAME, type StoredFileRef, type UploadedFiles, UploadTooLargeError } from './storage.ts';
import { StorageUnavailable } from '../storage/index.ts';
import { storageOutage } from '../storage/serve.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Base64Upload, base64BodyLimit, receiveBase64Body } from './base64-body.ts';

export type FileServiceDeps = {
  store: Store;
  clock: Clock;
  files: UploadedFiles;
  guard: OutboundGuard;
  /** Origin of file URLs (VIDGATE_PUBLIC_URL). */
  publicUrl: string;
  ttlMs: number;
  maxBytes: number;
  /** Live files a user may keep unless it has its own quota. */
  defaultQuota: number;
  /** Bytes of live files a user may keep unless it has its own quota. */
  defaultQuotaBytes: number;
  /** The largest file a base64 upload may carry, decoded. */
  base64MaxBytes: number;
  /** How long fetching a URL upload may take. */
  fetchDeadlineMs: number;
};

/** What a request names an upload's content by: the field its errors point at. */
type Field = 'file' | 'base64_data' | 'file_url';

/** A part of a multipart body, as @fastify/multipart gives it (the slice used here). */
export type UploadPart = { type: 'field'; fieldname: string; value: string } | { type: 'file'; fieldname: string; filename: string; file: Readable };

type Received = { partial: string; bytes: number; originalName?: string };


/** The Files API: uploads by stream, base64 or URL, their quota, and the files they made; knows nothing of HTTP. */
export class FileService {
  private readonly deps: FileServiceDeps;

  constructor(deps: FileServiceDeps) {
    this.deps = deps;
  }

  /**
   * Stores the one file of a multipart upload as it streams in (never whole in memory). Name
   * fields may come before or after the file part.
   */
  async fromParts(caller: Caller, parts: AsyncIterable<UploadPart>): Promise<FileData> {
    const fields: Record<string, string> = {};
    let received: Received | null = null;
    try {
      for await (const part of parts) {
        if (part.type === 'field') {
          fields[part.fieldname] = part.value;
          continue;
        }
        if (part.fieldname !== 'file' || received) {
          part.file.resume(); // the rest of the request must still be read
          throw invalidField('file', received ? 'send one file per request' : `send the file in the "file" field, not "${part.fieldname}"`);
        }
        try {
          checkUploadPath(fields.upload_path ?? fields.uploadPath);
          await this.checkRoom(caller, 0);
        } catch (error) {
          part.file.resume();
          throw error;
        }
        received = { ...(await this.receive(part.file)), originalName: part.filename };
      }
      if (!received) throw invalidField('file', 'missing; send the file as multipart/form-data in the "file" field');
      const names = uploadNames(fields);
      return await this.commit(caller, 'file', received, { ...names, uploadPath: checkUploadPath(names.uploadPath), originalName: received.originalName });
    } catch (error) {
      if (received) await this.deps.files.discard(received.partial);
      throw isTooLarge(error) ? this.tooLarge('file') : error;
    }
  }

  private async receive(source: Readable): Promise<{ partial: string; bytes: number }> {
    try {
      return await this.deps.files.receive(source, this.deps.maxBytes);
    } catch (error) {
      throw isTooLarge(error) ? this.tooLarge('file') : error;
    }
  }

  /**
   * Stores a base64 upload (plain or a data URL) as its JSON body streams in, decoded chunk by
   * chunk to disk: never whole in memory, at most VIDGATE_FILE_BASE64_MAX_BYTES (CONTRACT §8.4).
   */
  async fromBase64Body(caller: Caller, body: Readable): Promise<FileData> {
    await this.checkRoom(caller, 0);
    const partial = await this.deps.files.partialPath();
    let upload: Base64Upload;
    try {
      upload = await receiveBase64Body(body, partial, this.deps.base64MaxBytes, base64BodyLimit(this.deps.base64MaxBytes));
    } catch (error) {
      await this.deps.files.discard(partial);
      throw error;
    }
    try {
      const names = uploadNames(upload.fields);
      return await this.commit(caller, 'base64_data', { partial, bytes: upload.bytes }, { ...names, uploadPath: checkUploadPath(names.uploadPath) });
    } catch (error) {
      await this.deps.files.discard(partial);
      throw error;
    }
  }

  /** Fetches a public URL through the outbound guard (every redirect re-checked) and stores it. */
  async fromUrl(caller: Caller, url: string, names: UploadNames): Promise<FileData> {
    const uploadPath = checkUploadPath(names.uploadPath);
    await this.checkRoom(caller, 0);
    const partial = await this.deps.files.partialPath();
    const deadline = AbortSignal.timeout(this.deps.fetchDeadlineMs);
    let bytes: number;
    try {
      bytes = await downloadToFile(this.deps.guard, url, partial, { maxBytes: this.deps.maxBytes, signal: deadline });
    } catch (error) {
      await this.deps.files.discard(partial);
      if (error instanceof TooLargeError) throw this.tooLarge('file_url');
      throw invalidField('file_url', fetchFailure(error, deadline, this.deps.fetchDeadlineMs));
    }
    const originalName = lastPathSegment(url) || 'download';
    return this.commit(caller, 'file_url', { partial, bytes }, { ...names, uploadPath, originalName });
  }

  /** The caller's user's file quota and what is used of it. */
  async quota(caller: Caller): Promise<QuotaData> {
    const { max, maxBytes, custom, reason } = await this.limitOf(this.deps.store.db, caller.userId);
    const used = await this.liveUse(this.deps.store.db, caller.userId);
    return {
      user_group: caller.userGroup, used_files: used.files, max_files: max, remain_files: Math.max(0, max - used.files), is_custom: custom, quota_reason: reason,
      used_bytes: used.bytes, max_bytes: maxBytes, remain_bytes: Math.max(0, maxBytes - used.bytes),
    };
  }

  /** The row of a file that may still be served, or null (unknown, expired, swept). */
  async servable(fileId: string): Promise<FilesTable | null> {
    if (!FILE_ID_PATTERN.test(fileId)) return null;
    const row = await this.deps.store.db.selectFrom('files').selectAll().where('id', '=', fileId).executeTakeFirst();
    return row && row.swept_at === null && this.deps.clock.now() < row.expires_at ? row : null;
  }

  /** The file_url of the caller's own live upload `fileId`; 400 naming `field` otherwise (MCP tools take file ids). */
  async ownFileUrl(caller: Caller, fileId: string, field: string): Promise<string> {
    const row = await this.servable(fileId);
    if (!row || row.user_id !== caller.userId) throw invalidField(field, `no uploaded file ${fileId.slice(0, 80)} (expired, or not this user's)`);
    return (await this.view(row)).file_url;
  }

  /**
   * For a URL that names one of vidgate's own files: its object key in the storage, or null when
   * it is not such a URL. Throws 400 naming `field` when it is one but has expired or never existed.
   */
  async objectKeyOf(url: string, field: string): Promise<string | null> {
    const prefix = `${this.deps.publicUrl}/files/`;
    // Ours either way: vidgate's file URL, or the storage's presigned one (VIDGATE_RESULT_URLS=presigned), which the guard might refuse to fetch.
    const stored = url.startsWith(prefix) ? null : await this.deps.files.storedNameOfUrl(url);
    if (!url.startsWith(prefix) && stored === null) return null;
    const [id, name] = stored !== null ? [STORED_FILE_NAME.exec(stored)?.[1], null] : url.slice(prefix.length).split(/[?#]/)[0].split('/');
    const row = await this.servable(id ?? '');
    if (!row || (name !== null && row.file_name !== name)) throw invalidField(field, 'names an uploaded file that has expired or does not exist');
    return this.deps.files.keyOf(row.stored_name);
  }

  /** Answers a file's URL (`download`: as an attachment): 404 once it has expired. */
  async serve(request: FastifyRequest, reply: FastifyReply, fileId: string, name: string | null) {
    const row = await this.servable(fileId);
    if (!row || (name !== null && row.file_name !== name)) throw new ApiError('not_found', 'this file does not exist or has expired');
    return this.deps.files.serve(request, reply, refOf(row), name === null, this.deps.clock.now());
  }

  /** The answer an upload gives: file and download URLs (vidgate's, or presigned storage URLs), ISO times. */
  async view(row: FilesTable): Promise<FileData> {
    const { publicUrl } = this.deps;
    const presigned = await this.deps.files.presigned(refOf(row), this.deps.clock.now());
    return {
      file_id: row.id,
      file_name: row.file_name,
      original_name: row.original_name,
      file_size: row.bytes,
      mime_type: row.mime_type,
      upload_path: row.upload_path,
      file_url: presigned?.fileUrl ?? `${publicUrl}/files/${row.id}/${row.file_name}`,
      download_url: presigned?.downloadUrl ?? `${publicUrl}/api/v1/files/download/${row.id}`,
      upload_time: new Date(row.created_at).toISOString(),
      expires_at: new Date(row.expires_at).toISOString(),
    };
  }

  /** Sniffs the type, gives the file its stored name and records it, within the quota (checked again under a lock). */
  private async commit(caller: Caller, field: Field, received: Received, names: UploadNames): Promise<FileData> {
    const { files, store, clock, ttlMs } = this.deps;
    const mime = await sniffFileType(received.partial).catch(() => null);
    if (!mime) {
      await files.discard(received.partial);
      throw invalidField(field, `unsupported file type; upload ${ACCEPTED_FILE_TYPES}`);
    }
    const id = `file_${randomChars(24)}`;
    const now = clock.now();
    const row: FilesTable = {
      id,
      user_id: caller.userId,
      key_id: caller.keyId,
      file_name: safeFileName(names.fileName ?? names.originalName, mime, id),
      original_name: (names.fileName ?? names.originalName ?? `${id}.${FILE_KINDS[mime]}`).slice(0, 300),
      upload_path: uploadFolder(names.uploadPath, mime),
      mime_type: mime,
      bytes: received.bytes,
      stored_name: `${id}.${FILE_KINDS[mime]}`,
      created_at: now,
      expires_at: now + ttlMs,
      swept_at: null,
    };
    // Whole in storage first, then recorded: a crash in between leaves an orphan the sweeper removes.
    await files.publish(received.partial, row.stored_name, mime).catch(async (error: unknown) => {
      await files.discard(received.partial);
      throw error instanceof StorageUnavailable ? storageOutage(error) : error;
    });
    try {
      await store.write(async (trx) => {
        await this.checkRoom(caller, row.bytes, trx);
        await trx.insertInto('files').values(row).execute();
      });
    } catch (error) {
      await files.remove(row.stored_name);
      throw error;
    }
    return this.view(row);
  }

  /**
   * 429 quota_exceeded when the user keeps as many live files as it may, or `incoming` more
   * bytes would pass its byte quota; in a write, the user's row is locked first.
   */
  private async checkRoom(caller: Caller, incoming: number, trx: Db = this.deps.store.db): Promise<void> {
    if (trx !== this.deps.store.db && isPostgres(trx)) await trx.selectFrom('users').select('id').where('id', '=', caller.userId).forUpdate().execute();
    const limit = await this.limitOf(trx, caller.userId);
    const used = await this.liveUse(trx, caller.userId);
    const ttl = `files expire ${this.deps.ttlMs / 3_600_000} h after upload`;
    let refusal: string | null = null;
    if (used.files >= limit.max) refusal = `file: this user keeps ${used.files} of ${limit.max} files; ${ttl}`;
    else if (used.bytes + incoming > limit.maxBytes || (incoming === 0 && used.bytes >= limit.maxBytes)) {
      refusal = `file: this user keeps ${formatBytes(used.bytes)} of ${formatBytes(limit.maxBytes)}${incoming ? `, too little for ${formatBytes(incoming)} more` : ''}; ${ttl}`;
    }
    if (!refusal) return;
    const waitSec = Math.max(1, Math.ceil((Number(used.nextExpiry ?? 0) - this.deps.clock.now()) / 1000));
    throw new ApiError('quota_exceeded', refusal, { param: 'file', headers: { 'retry-after': String(waitSec) } });
  }

  private async limitOf(db: Db, userId: string): Promise<{ max: number; maxBytes: number; custom: boolean; reason: string }> {
    const user = await db.selectFrom('users').select(['max_files', 'max_file_bytes', 'max_files_reason']).where('id', '=', userId).executeTakeFirst();
    const custom = (user?.max_files ?? null) !== null || (user?.max_file_bytes ?? null) !== null;
    return {
      max: user?.max_files ?? this.deps.defaultQuota,
      maxBytes: user?.max_file_bytes === null || user?.max_file_bytes === undefined ? this.deps.defaultQuotaBytes : Number(user.max_file_bytes),
      custom,
      reason: custom ? (user?.max_files_reason ?? '') : '',
    };
  }

  /** The user's live (unexpired, unswept) files: how many, their bytes, and when the first expires. */
  private async liveUse(db: Db, userId: string): Promise<{ files: number; bytes: number; nextExpiry: number | null }> {
    const row = await db
      .selectFrom('files')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('bytes').as('bytes'), eb.fn.min<number>('expires_at').as('next')])
      .where('user_id', '=', userId)
      .where('swept_at', 'is', null)
      .where('expires_at', '>', this.deps.clock.now())
      .executeTakeFirstOrThrow();
    return { files: Number(row.n), bytes: Number(row.bytes ?? 0), nextExpiry: row.next === null ? null : Number(row.next) };
  }

  private tooLarge(field: Field): ApiError {
    return new ApiError('request_too_large', `${field}: the file is larger than the ${formatBytes(this.deps.maxBytes)} limit`, { param: field });
  }
}

/** What serving and presigning need of a file row. */
function refOf(row: FilesTable): StoredFileRef {
  return { storedName: row.stored_name, fileName: row.file_name, mimeType: row.mime_type, expiresAt: Number(row.expires_at) };
}

/** Over the size limit, by our count or by the multipart parser's. */
function isTooLarge(error: unknown): boolean {
  return error instanceof UploadTooLargeError || (error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE';
}

/** The URL's last path segment, decoded where its escapes allow (the name an upload from a URL keeps). */
function lastPathSegment(url: string): string {
  const segment = new URL(url).pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

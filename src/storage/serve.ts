import type { FastifyReply, FastifyRequest } from 'fastify';
import { combineRanges, parse as parseRange } from 'range-parser';
import { ApiError } from '../contract/errors.ts';
import { ObjectMissing, type ObjectStore, StorageUnavailable } from './object-store.ts';

/** How a stored object reaches a client (VIDGATE_RESULT_URLS, CONTRACT §12). */
export type ObjectUrlMode = 'proxy' | 'redirect' | 'presigned';

export type ServeOptions = { contentType: string; downloadName?: string; cacheControl: string; missing: () => ApiError };

/**
 * Streams an object to the client, honouring Range (206, or 416 past the end) and conditional
 * GETs (ETag and Last-Modified from the object's size and time): the bytes pass through vidgate,
 * a chunk at a time, whatever the store.
 */
export async function sendObject(request: FastifyRequest, reply: FastifyReply, store: ObjectStore, key: string, options: ServeOptions) {
  const info = await guarded(() => store.head(key));
  if (!info) throw options.missing();
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.modified).toString(16)}"`;
  const modified = new Date(info.modified).toUTCString();
  reply.header('etag', etag).header('last-modified', modified).header('accept-ranges', 'bytes').header('cache-control', options.cacheControl);
  reply.header('content-type', options.contentType);
  if (options.downloadName) reply.header('content-disposition', `attachment; filename="${options.downloadName}"`);
  if (request.headers['if-none-match'] === etag || (!request.headers['if-none-match'] && request.headers['if-modified-since'] === modified)) return reply.code(304).send();
  const header = request.headers.range;
  const parsed = header ? parseRange(info.size, header) : undefined;
  if (parsed?.type === 'bytes' && parsed.code === 2) return reply.code(416).header('content-range', `bytes */${info.size}`).send();
  // A malformed header, or several ranges, get the whole object (as static file servers do).
  const ranges = parsed?.type === 'bytes' && parsed.code === 0 ? combineRanges(parsed.ranges) : [];
  const range = ranges.length === 1 ? { start: ranges[0].start, end: ranges[0].end } : undefined;
  const body = await guarded(() => store.read(key, range), options.missing);
  if (range) {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`).header('content-length', String(range.end - range.start + 1));
  } else {
    reply.header('content-length', String(info.size));
  }
  if (request.method === 'HEAD') {
    body.destroy();
    return reply.send();
  }
  return reply.send(body);
}

/** Answers 302 to a fresh presigned URL of the object (at most `maxSeconds` long). */
export async function redirectToObject(reply: FastifyReply, store: ObjectStore, key: string, maxSeconds: number, options: Pick<ServeOptions, 'contentType' | 'downloadName' | 'missing'>) {
  const url = await guarded(() => store.presign(key, Math.min(maxSeconds, 3600), { contentType: options.contentType, downloadName: options.downloadName }));
  if (!url) throw options.missing();
  return reply.code(302).header('location', url).header('cache-control', 'private, no-store').send();
}

/** The API's answer to a storage outage: 503, retry shortly (the request was fine). */
export function storageOutage(error: StorageUnavailable): ApiError {
  return new ApiError('service_unavailable', `storage: ${error.message}; retry shortly`, { headers: { 'retry-after': '5' } });
}

/** A store failure answers 503 (retry later); a missing object the route's 404. */
async function guarded<T>(work: () => Promise<T>, missing?: () => ApiError): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ObjectMissing && missing) throw missing();
    if (error instanceof StorageUnavailable) throw storageOutage(error);
    throw error;
  }
}

import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { base64UploadSchema, fileUploadResponseSchema, quotaResponseSchema, uploadNames, urlUploadSchema } from '../../contract/files.ts';
import type { FileService, UploadPart } from '../../files/service.ts';
import type { Readable } from 'node:stream';
import { ApiError } from '../../contract/errors.ts';
import { base64BodyLimit, tooLargeForBase64 } from '../../files/base64-body.ts';
import { callerOf } from '../auth.ts';
import { errorResponses } from '../openapi.ts';
import { formatBytes } from '../../contract/media-limits.ts';

// The multipart parser's own errors (@fastify/busboy): a malformed body, not a fault of ours.
const MULTIPART_PARSER_ERROR = /^Multipart: Boundary not found$|unexpected end of multipart data$/i;

const uploadErrors = { ...errorResponses, 413: errorResponses[400] };
const uploaded = (data: z.infer<typeof fileUploadResponseSchema>['data']) => ({ success: true as const, code: 200 as const, msg: 'File uploaded successfully', data });
const common = { tags: ['files'], security: [{ bearerAuth: [] }] };
const expiry = 'Files are served for 72 h (VIDGATE_FILE_TTL); the returned `file_url` is accepted as a media URL by every model.';

/** The EvoLink Files API under /api/v1/files: uploads by stream, base64 and URL, and the quota. */
export const filesRoutes: FastifyPluginAsyncZod<{ files: FileService; maxBytes: number; base64MaxBytes: number }> = async (app, { files, maxBytes, base64MaxBytes }) => {
  await app.register(multipart, { limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 1024, parts: 12 } });

  app.post('/files/upload/stream', {
    schema: {
      ...common,
      summary: 'Upload a file (multipart/form-data)', operationId: 'uploadFileStream',
      description: `The \`file\` part (JPEG, PNG, GIF, WEBP, BMP, MP4, MOV, WAV, MP3) is streamed to disk, never held in memory; optional \`upload_path\` and \`file_name\` fields (or camelCase). ${expiry}`,
      consumes: ['multipart/form-data'],
      response: { 200: fileUploadResponseSchema, ...uploadErrors },
    },
    handler: async (request) => {
      try {
        return uploaded(await files.fromParts(callerOf(request), uploadParts(request.parts())));
      } catch (error) {
        throw MULTIPART_PARSER_ERROR.test((error as Error)?.message ?? '') && !(error instanceof ApiError)
          ? new ApiError('invalid_request', 'request body: not a readable multipart/form-data body (a boundary and whole parts are needed)')
          : error;
      }
    },
  });

  // The body streams into the service, which decodes base64_data to disk as it arrives (CONTRACT §8.4).
  await app.register(async (streamed) => {
    streamed.removeContentTypeParser('application/json');
    streamed.addContentTypeParser('application/json', (_request, payload, done) => done(null, payload));
    const rawLimit = base64BodyLimit(base64MaxBytes);
    streamed.post('/files/upload/base64', {
      bodyLimit: rawLimit,
      // The schema documents the body; the service reads and checks it while it streams.
      validatorCompiler: () => (value: unknown) => ({ value }),
      schema: { ...common, summary: 'Upload a file as base64', operationId: 'uploadFileBase64', description: `${expiry} At most ${formatBytes(base64MaxBytes)} decoded; larger files go to the multipart upload.`, body: base64UploadSchema, response: { 200: fileUploadResponseSchema, ...uploadErrors } },
      handler: async (request) => {
        if (Number(request.headers['content-length']) > rawLimit) throw tooLargeForBase64(base64MaxBytes); // refused before a byte is read
        return uploaded(await files.fromBase64Body(callerOf(request), request.body as unknown as Readable));
      },
    });
  });

  app.post('/files/upload/url', {
    schema: {
      ...common,
      summary: 'Upload a file from a URL', operationId: 'uploadFileFromUrl',
      description: `vidgate fetches it through its outbound guard: private and internal addresses are refused, on every redirect. ${expiry}`,
      body: urlUploadSchema,
      response: { 200: fileUploadResponseSchema, ...uploadErrors },
    },
    handler: async (request) => uploaded(await files.fromUrl(callerOf(request), request.body.file_url, uploadNames(request.body))),
  });

  app.get('/files/quota', {
    schema: { ...common, summary: "The user's file quota", operationId: 'getFileQuota', description: 'Live (unexpired) files count against it.', response: { 200: quotaResponseSchema, ...errorResponses } },
    handler: async (request) => ({ success: true as const, code: 200 as const, data: await files.quota(callerOf(request)) }),
  });
};

/** @fastify/multipart's parts as the slice the service reads. */
async function* uploadParts(parts: AsyncIterable<{ type: string; fieldname: string } & Record<string, any>>): AsyncGenerator<UploadPart> {
  for await (const part of parts) {
    if (part.type === 'file') yield { type: 'file', fieldname: part.fieldname, filename: part.filename, file: part.file };
    else yield { type: 'field', fieldname: part.fieldname, value: String(part.value ?? '') };
  }
}

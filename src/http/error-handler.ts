import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { API_ERRORS, ApiError, type ApiErrorCode } from '../contract/errors.ts';

/** Turns a zod issue path into the field name users write: `video_urls[0]`. */
export function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((name, key) => (typeof key === 'number' ? `${name}[${key}]` : name ? `${name}.${String(key)}` : String(key)), '');
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A short rendering of a rejected value; containers are named, never serialized (they may be huge or deep). */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** `/video_urls/0` (a validation error's instancePath) → ['video_urls', 0]. */
function pathOf(instancePath: string): PropertyKey[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** The 400 for the first schema issue: `field: rule (got value)`. */
function validationError(issue: { instancePath: string; message?: string }, request: FastifyRequest, part: string): ApiError {
  const path = pathOf(issue.instancePath);
  const field = fieldName(path);
  const rule = issue.message ?? 'is invalid';
  if (!field) {
    const hint = part === 'body' ? 'request body: must be a JSON object with a "model" field that ' : `${part}: `;
    return new ApiError('invalid_request', `${hint}${rule}`);
  }
  const source = { body: request.body, params: request.params, headers: request.headers }[part] ?? request.query;
  const value = valueAt(source, path);
  const got = value === undefined ? '' : ` (got ${describeValue(value)})`;
  return new ApiError('invalid_request', `${field}: ${rule}${got}`, { param: fieldName(path.slice(0, 1)) });
}

const FASTIFY_CODES: Record<string, [ApiErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_request', 'request body: malformed JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_request', 'request body: empty; send a JSON object'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['request_too_large', 'request body: larger than the limit'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['invalid_request', 'Content-Type: must be application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid_request', 'Content-Length: does not match the body'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: ['invalid_request', 'Content-Type: must be multipart/form-data'],
  FST_REQ_FILE_TOO_LARGE: ['request_too_large', 'file: larger than the limit'],
  FST_FILES_LIMIT: ['invalid_request', 'file: send one file per request'],
  FST_FIELDS_LIMIT: ['invalid_request', 'request body: too many form fields'],
  FST_PARTS_LIMIT: ['invalid_request', 'request body: too many form parts'],
  FST_PROTO_VIOLATION: ['invalid_request', 'request body: a form field has a forbidden name'],
  FST_MP_PREMATURE_CLOSE: ['invalid_request', 'request body: the upload ended early'],
};

/** Maps any error to the EvoLink error body; never leaks a stack or an internal detail. */
export function toApiError(error: FastifyError | Error, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const first = error.validation[0];
    return validationError(first, request, error.validationContext ?? 'body');
  }
  const code = (error as FastifyError).code;
  if (code && FASTIFY_CODES[code]) return new ApiError(...FASTIFY_CODES[code]);
  if (error instanceof SyntaxError && (error as FastifyError).statusCode === 400) return new ApiError('invalid_request', 'request body: malformed JSON');
  const status = (error as FastifyError).statusCode ?? 500;
  if (status >= 400 && status < 500) return new ApiError('invalid_request', 'the request could not be read');
  return new ApiError('internal_error', 'internal error; the operator can find it in the logs');
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const apiError = toApiError(error, request);
  if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
  reply.code(apiError.status).headers(apiError.headers).send(apiError.toBody());
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const error = new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  reply.code(API_ERRORS.not_found.status).send(error.toBody());
}

/** Every API error vidgate answers with: code → HTTP status and EvoLink error type (CONTRACT §1). */
export const API_ERRORS = Object.freeze({
  invalid_request: { status: 400, type: 'invalid_request_error' },
  missing_video_urls: { status: 400, type: 'invalid_request_error' },
  invalid_task_id: { status: 400, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  insufficient_quota: { status: 402, type: 'insufficient_quota' },
  model_access_denied: { status: 403, type: 'invalid_request_error' },
  /** The operator plane (CONTRACT §10): a key that is not an admin's. */
  admin_required: { status: 403, type: 'permission_error' },
  task_not_found: { status: 404, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  idempotency_conflict: { status: 409, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  quota_exceeded: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'api_error' },
  service_unavailable: { status: 503, type: 'api_error' },
} as const);

export type ApiErrorCode = keyof typeof API_ERRORS;

/** The error codes a failed task carries in `error.code` (CONTRACT §3). */
export const TASK_ERROR_CODES = Object.freeze([
  'content_policy_violation',
  'invalid_parameters',
  'image_processing_error',
  'request_cancelled',
  'generation_failed_no_content',
  'service_error',
  'generation_timeout',
  'resource_exhausted',
  'quota_exceeded',
  'service_unavailable',
  'resource_not_found',
  'unknown_error',
] as const);

export type TaskErrorCode = (typeof TASK_ERROR_CODES)[number];

export type ApiErrorBody = { error: { code: string; message: string; type: string; param?: string } };

/** An error the API answers with; `param` names the offending field when there is one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly param: string | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ApiErrorCode, message: string, options: { param?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.code = code;
    this.param = options.param;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return API_ERRORS[this.code].status;
  }

  toBody(): ApiErrorBody {
    const body: ApiErrorBody = { error: { code: this.code, message: this.message, type: API_ERRORS[this.code].type } };
    if (this.param) body.error.param = this.param;
    return body;
  }
}

/** 400 invalid_request for one field: the message starts with the field's name. */
export function invalidField(field: string, message: string): ApiError {
  return new ApiError('invalid_request', `${field}: ${message}`, { param: field.replace(/\[\d+\]$/, '') });
}

/** Why a task failed, as its `error` shows it; `retryable` says whether another attempt may help. */
export class TaskFailure extends Error {
  override readonly name = 'TaskFailure';
  readonly code: TaskErrorCode;
  readonly retryable: boolean;

  constructor(code: TaskErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

import type { Generated } from 'kysely';
import type { TaskErrorCode } from '../contract/errors.ts';
import type { TaskStatus } from '../contract/task-view.ts';

/** Table types for Kysely; times are unix ms, money integer micro-credits, booleans 0/1. */
export type Database = {
  audit_log: AuditLogTable;
  prices: PricesTable;
  users: UsersTable;
  server_secrets: ServerSecretsTable;
  api_keys: ApiKeysTable;
  ledger_entries: LedgerEntriesTable;
  tasks: TasksTable;
  task_inputs: TaskInputsTable;
  jobs: JobsTable;
  callback_deliveries: CallbackDeliveriesTable;
  callback_attempts: CallbackAttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  channel_health: ChannelHealthTable;
  files: FilesTable;
  usage_daily: UsageDailyTable;
};

export type UsersTable = {
  id: string;
  name: string;
  /** `user` or `admin` (CONTRACT §10.1): an admin's keys also call /admin/v1. */
  role: Generated<string>;
  /** Set when an admin disabled the user: all its keys stop. */
  disabled_at: number | null;
  user_group: string;
  webhook_secret: string;
  /** Top-ups − reservations + releases: what the user may still spend (below 0 only through unlimited keys). */
  balance_micro: number;
  /** Charges: what the user has spent. */
  used_micro: number;
  created_at: number;
  /** Live uploaded files the user may keep; null = VIDGATE_FILE_QUOTA. */
  max_files: number | null;
  /** Why the user has a quota of its own, shown by GET /api/v1/files/quota. */
  max_files_reason: string | null;
  /** Bytes of live uploads the user may keep; null = VIDGATE_FILE_QUOTA_BYTES. */
  max_file_bytes: number | null;
};

export type ApiKeysTable = {
  id: string;
  user_id: string;
  /** What the key is for, as its owner named it. */
  name: string | null;
  /** After this time (unix ms) the key is refused; null = never. */
  expires_at: number | null;
  key_hash: string;
  key_prefix: string;
  /** Comma-separated model ids; null = every model. */
  allowed_models: string | null;
  disabled_at: number | null;
  created_at: number;
  /** The key's own allowance (its top-ups); null = it spends the user's balance with no cap of its own. */
  allowance_micro: number | null;
  /** Reserved and not released through this key (held + charged). */
  spent_micro: number;
  /** Charged through this key. */
  used_micro: number;
  /** 1 = never refused for credits; spending is still recorded against the user. */
  unlimited: number;
  /** Pending and processing tasks created with this key. */
  unfinished: number;
  /** Task creations per minute; null = VIDGATE_RATE_LIMIT_RPM. */
  rpm: number | null;
  /** Unfinished tasks at once; null = VIDGATE_MAX_UNFINISHED_TASKS. */
  max_unfinished: number | null;
  /** When the key last made a task (unix ms). */
  last_used_at: number | null;
};

export type LedgerEntriesTable = {
  /** Grows with every row: the ledger's order. */
  id: Generated<number>;
  user_id: string;
  key_id: string | null;
  task_id: string | null;
  /** Signed `amount_micro`: `adjust` (an admin's negative top-up) and `allowance` (moved between a user's keys; the balance unchanged). */
  kind: 'topup' | 'reserve' | 'charge' | 'release' | 'adjust' | 'allowance';
  amount_micro: number;
  created_at: number;
  /** The user's balance right after this row (null only for rows older than the column that no backfill could place). */
  balance_after_micro: number | null;
  /** Why an admin moved credits. */
  note: string | null;
};

export type TasksTable = {
  id: string;
  user_id: string;
  key_id: string;
  model: string;
  status: TaskStatus;
  progress: number;
  quality: string;
  seed: number;
  /** The normalized model parameters (contract names), JSON. */
  params_json: string;
  callback_url: string | null;
  output_width: number;
  output_height: number;
  output_fps: number;
  output_duration_ms: number;
  video_duration: number;
  billed_seconds: number;
  billing_rule: string;
  credits_reserved_micro: number;
  credits_charged_micro: number | null;
  user_group: string;
  estimated_time: number;
  error_code: TaskErrorCode | null;
  error_message: string | null;
  result_path: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  /** The channel that runs the task (named `engine` since 2/6); estimates come from its history. */
  engine: string;
  started_at: number | null;
  /** When the sweeper deleted the task's inputs and result. */
  swept_at: number | null;
  /** 0 once the upstream runs the job and cannot stop it (CONTRACT §8.7): a cancel is refused. */
  can_cancel: number;
  /** The price book's version the task was quoted on (CONTRACT §10.2). */
  price_version: number | null;
  /** With VIDGATE_RESULT_URLS=presigned: the result's presigned storage URL, valid until the result expires. */
  result_url: string | null;
};

export type TaskInputsTable = {
  task_id: string;
  field: string;
  kind: 'image' | 'video' | 'audio';
  url: string;
  /** The object key of the stored input (`inputs/<task id>/<file>`) in the configured storage. */
  path: string;
  container: string;
  bytes: number;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  fps: number | null;
  has_audio: number;
};

/** queued → running (leased) → done | failed | cancelled; `waiting` = polled on an upstream; `parked` = no channel has room. */
export type JobState = 'queued' | 'running' | 'waiting' | 'parked' | 'done' | 'failed' | 'cancelled';

/** Where a job is on its channel: route → render (local), or route → submitting → accepted | unknown → fetch. */
export type JobPhase = 'route' | 'render' | 'submitting' | 'unknown' | 'accepted' | 'fetch';

/** A task's job: the worker's unit of work, leased while it runs. */
export type JobsTable = {
  task_id: string;
  state: JobState;
  /** Claims so far, this one included. */
  attempts: number;
  max_attempts: number;
  /** When it may be claimed: queued, after any backoff; running, when the lease runs out. */
  run_at: number;
  lease_owner: string | null;
  /** A new random token at every claim: statements of a lease carry it, so a re-claim by the same worker fences out the old run. */
  lease_token: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  model: string;
  phase: JobPhase;
  /** The channel it is routed to; null until routed. */
  channel: string | null;
  /** Channels already tried for this task, comma-separated: failover never goes back to one. */
  tried_channels: string;
  /** Unique per submission; lets engines that can name a job look it up. */
  submit_key: string | null;
  upstream_id: string | null;
  /** Engine-owned JSON the later calls need (e.g. fal's status URL). */
  upstream_ref: string | null;
  /** JSON {url, billedSeconds} once the upstream succeeded. */
  upstream_result: string | null;
  /** When the submit was sent (unix ms). */
  submitted_at: number | null;
  /** JSON field → URL the upstream was handed for each input in this submit (CONTRACT §8.3). */
  input_urls: string | null;
};

/** One row per channel, shared by every process: health, submit and query pacing. */
export type ChannelHealthTable = {
  name: string;
  /** Retryable failures in a row. */
  failures: number;
  unhealthy_until: number;
  /** When the next submit may go (GCRA's theoretical arrival time). */
  submit_tat: number;
  /** When the next status query may start (its turns are spaced evenly across processes). */
  query_tat: Generated<number>;
  updated_at: number;
  /** Set while an admin has paused the channel: it takes no new jobs. */
  paused_at: number | null;
};

export type DeliveryState = 'pending' | 'sending' | 'delivered' | 'failed';

/** One callback message (its id is the `webhook-id`), with its retry schedule. */
export type CallbackDeliveriesTable = {
  id: string;
  task_id: string;
  user_id: string;
  url: string;
  /** The task object at settlement, sent as it is on every attempt. */
  body: string;
  state: DeliveryState;
  /** Attempts ever made (numbers the attempt rows). */
  attempts: number;
  /** Attempts since it was (re)sent: the position in the retry schedule. */
  round_attempts: number;
  /** When the next attempt is due; while sending, when its lease runs out. */
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  delivered_at: number | null;
  created_at: number;
  updated_at: number;
};

export type CallbackAttemptsTable = {
  delivery_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
};

/** A create request's Idempotency-Key, the hash of its body and the task it made. */
export type IdempotencyKeysTable = {
  user_id: string;
  key: string;
  request_hash: string;
  task_id: string;
  expires_at: number;
};

export type FilesTable = {
  /** file_ + 24 random characters: also the unguessable part of its URL. */
  id: string;
  user_id: string;
  key_id: string;
  /** The name in its URL: the one asked for or made up, reduced to safe characters. */
  file_name: string;
  /** The name the client sent (multipart filename, or the URL's last segment). */
  original_name: string;
  upload_path: string;
  /** Sniffed from the content, never taken from the client. */
  mime_type: string;
  bytes: number;
  /** Its name under <storage dir>/files. */
  stored_name: string;
  created_at: number;
  expires_at: number;
  /** Set when the sweeper removed it (after expiry). */
  swept_at: number | null;
};

/** A secret every process of the install shares, made by the first that needs it. */
export type ServerSecretsTable = { name: string; value: string };

/** One admin action (CONTRACT §10.2): who, when, what, before and after, never a secret. */
export type AuditLogTable = {
  id: string;
  created_at: number;
  actor_user_id: string | null;
  key_id: string | null;
  action: string;
  target: string;
  before_json: string | null;
  after_json: string | null;
};

/** A price the operator set (CONTRACT §10.2): the model's rule and credits per quality; other models keep their defaults. */
export type PricesTable = {
  model: string;
  rule: string;
  /** Credits per quality, e.g. {"720p": 8.6, "1080p": 14.4}. */
  prices_json: string;
  /** The book's version when this row was written; the book's version is the largest. */
  version: number;
  updated_at: number;
};

/** Ended tasks per UTC creation day, user, model and channel (CONTRACT §10.2 usage); written as each task settles. */
export type UsageDailyTable = {
  /** YYYY-MM-DD (UTC) of the tasks' creation. */
  day: string;
  user_id: string;
  model: string;
  channel: string;
  completed: number;
  failed: number;
  cancelled: number;
  billed_seconds: number;
  charged_micro: number;
  released_micro: number;
  /** JSON {seconds from create to end (billing/usage.ts durationBucket): tasks}. */
  durations_json: string;
};

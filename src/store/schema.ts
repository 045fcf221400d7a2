import type { TaskErrorCode } from '../contract/errors.ts';
import type { TaskStatus } from '../contract/task-view.ts';

/** Table types for Kysely; times are unix ms, money integer micro-credits, booleans 0/1. */
export type Database = {
  users: UsersTable;
  api_keys: ApiKeysTable;
  ledger_entries: LedgerEntriesTable;
  tasks: TasksTable;
  task_inputs: TaskInputsTable;
  jobs: JobsTable;
};

export type UsersTable = {
  id: string;
  name: string;
  user_group: string;
  webhook_secret: string;
  balance_micro: number;
  created_at: number;
};

export type ApiKeysTable = {
  id: string;
  user_id: string;
  key_hash: string;
  key_prefix: string;
  /** Comma-separated model ids; null = every model. */
  allowed_models: string | null;
  disabled_at: number | null;
  created_at: number;
};

export type LedgerEntriesTable = {
  id: string;
  user_id: string;
  key_id: string | null;
  task_id: string | null;
  kind: 'topup' | 'reserve' | 'charge' | 'release';
  amount_micro: number;
  created_at: number;
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
  /** The engine (later: channel) that runs the task; estimates come from its history. */
  engine: string;
  started_at: number | null;
  /** When the sweeper deleted the task's inputs and result. */
  swept_at: number | null;
};

export type TaskInputsTable = {
  task_id: string;
  field: string;
  kind: 'image' | 'video' | 'audio';
  url: string;
  path: string;
  container: string;
  bytes: number;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  fps: number | null;
  has_audio: number;
};

export type JobState = 'queued' | 'running' | 'done' | 'failed';

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
  lease_expires_at: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
};

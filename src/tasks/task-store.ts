import type { Insertable, Kysely, Selectable } from 'kysely';
import { isTerminal, type TaskViewSource } from '../contract/task-view.ts';
import type { ResultFiles } from '../media/results.ts';
import { enqueueJob } from '../queue/jobs.ts';
import type { Db, Store } from '../store/db.ts';
import { insertRow, precompileOne } from '../store/precompiled.ts';
import type { Database, TaskInputsTable, TasksTable } from '../store/schema.ts';

export type TaskRow = Selectable<TasksTable>;

// Every column, by name (the compiler insists on each): the hot reads are prepared and may not `select *`.
const TASK_COLUMNS = Object.keys({
  id: true, user_id: true, key_id: true, model: true, status: true, progress: true, quality: true, seed: true, params_json: true,
  callback_url: true, output_width: true, output_height: true, output_fps: true, output_duration_ms: true, video_duration: true,
  billed_seconds: true, billing_rule: true, credits_reserved_micro: true, credits_charged_micro: true, user_group: true,
  estimated_time: true, error_code: true, error_message: true, result_path: true, created_at: true, updated_at: true,
  finished_at: true, engine: true, started_at: true, swept_at: true, can_cancel: true, price_version: true, result_url: true,
} satisfies Record<keyof TasksTable, true>) as (keyof TasksTable)[];

// What the task object (`viewSource`) reads: a poll reads only these (each column cost ~3 µs of API CPU a get on PostgreSQL).
const VIEW_COLUMNS = [
  'id', 'model', 'status', 'progress', 'created_at', 'estimated_time', 'video_duration', 'billing_rule', 'credits_reserved_micro',
  'credits_charged_micro', 'user_group', 'error_code', 'error_message', 'result_url', 'result_path', 'can_cancel',
] as const satisfies readonly (keyof TasksTable)[];

export type TaskViewRow = Pick<TaskRow, (typeof VIEW_COLUMNS)[number]>;

/** Writes a new task, its inputs and its job; call inside the transaction that reserves its credits. */
export async function insertTask(q: Kysely<Database>, task: Insertable<TasksTable>, inputs: Insertable<TaskInputsTable>[], maxAttempts: number): Promise<void> {
  await insertRow(q, 'tasks', task);
  for (const input of inputs) await insertRow(q, 'task_inputs', input);
  await enqueueJob(q, task.id, task.model, maxAttempts, task.created_at);
}

/** Reads of the task store; the per-request lookups are compiled once and prepared (`precompileOne`). */
export class TaskReader {
  private readonly byIdForUser: (parameters: readonly unknown[]) => Promise<TaskRow | undefined>;
  private readonly viewByIdForUser: (parameters: readonly unknown[]) => Promise<TaskViewRow | undefined>;
  private readonly byId: (parameters: readonly unknown[]) => Promise<TaskRow | undefined>;
  private readonly db: Db;

  constructor(store: Store) {
    const db = (this.db = store.db);
    this.byIdForUser = precompileOne(store, db.selectFrom('tasks').select(TASK_COLUMNS).where('id', '=', '').where('user_id', '=', ''));
    this.viewByIdForUser = precompileOne(store, db.selectFrom('tasks').select(VIEW_COLUMNS).where('id', '=', '').where('user_id', '=', ''));
    this.byId = precompileOne(store, db.selectFrom('tasks').select(TASK_COLUMNS).where('id', '=', ''));
  }

  findTask(taskId: string): Promise<TaskRow | undefined> {
    return this.byId([taskId]);
  }

  /** A user's tasks, newest first, older than the task `before` when given (a cursor), optionally of one status. */
  async listUserTasks(userId: string, options: { limit: number; before?: TaskRow; status?: TaskRow['status'] }): Promise<TaskRow[]> {
    let query = this.db.selectFrom('tasks').selectAll().where('user_id', '=', userId);
    const { before, status } = options;
    if (before) {
      query = query.where((eb) => eb.or([eb('created_at', '<', before.created_at), eb.and([eb('created_at', '=', before.created_at), eb('id', '<', before.id)])]));
    }
    if (status) query = query.where('status', '=', status);
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  }

  /** The task with this id if `userId` owns it (others' tasks are invisible). */
  findUserTask(userId: string, taskId: string): Promise<TaskRow | undefined> {
    return this.byIdForUser([taskId, userId]);
  }

  /** What the task object shows of the task with this id if `userId` owns it. */
  findUserTaskView(userId: string, taskId: string): Promise<TaskViewRow | undefined> {
    return this.viewByIdForUser([taskId, userId]);
  }
}

/** The view fields of a stored task at time `now`; `results` turns a result path into a public URL. */
export function viewSource(row: TaskViewRow, results: ResultFiles, now: number): TaskViewSource {
  return {
    id: row.id,
    model: row.model,
    status: row.status,
    progress: row.progress,
    created_at: row.created_at,
    estimated_time: isTerminal(row.status) ? 0 : Math.max(1, row.estimated_time - Math.floor((now - row.created_at) / 1000)),
    video_duration: row.video_duration,
    billing_rule: row.billing_rule,
    credits_reserved_micro: row.credits_reserved_micro,
    credits_charged_micro: row.credits_charged_micro,
    user_group: row.user_group,
    error_code: row.error_code,
    error_message: row.error_message,
    result_url: row.result_url ?? (row.result_path ? results.url(row.result_path) : null),
    can_cancel: row.can_cancel === 1,
  };
}

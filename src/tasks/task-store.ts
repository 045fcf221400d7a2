import type { Insertable, Selectable } from 'kysely';
import type { TaskViewSource } from '../contract/task-view.ts';
import type { Db, Store } from '../store/db.ts';
import { precompile } from '../store/precompiled.ts';
import type { TaskInputsTable, TasksTable } from '../store/schema.ts';

export type TaskRow = Selectable<TasksTable>;

/** Writes a new task and its inputs in one transaction. */
export async function insertTask(store: Store, task: Insertable<TasksTable>, inputs: Insertable<TaskInputsTable>[]): Promise<void> {
  await store.write(async (trx) => {
    await trx.insertInto('tasks').values(task).execute();
    if (inputs.length > 0) await trx.insertInto('task_inputs').values(inputs).execute();
  });
}

/** Reads of the task store; the per-request lookup is precompiled. */
export class TaskReader {
  private readonly byIdForUser: (parameters: readonly unknown[]) => Promise<TaskRow[]>;

  constructor(db: Db) {
    this.byIdForUser = precompile(db, db.selectFrom('tasks').selectAll().where('id', '=', '').where('user_id', '=', ''));
  }

  /** The task with this id if `userId` owns it (others' tasks are invisible). */
  async findUserTask(userId: string, taskId: string): Promise<TaskRow | undefined> {
    return (await this.byIdForUser([taskId, userId]))[0];
  }
}

/** The view fields of a stored task; `resultUrl` turns a result path into a public URL. */
export function viewSource(row: TaskRow, resultUrl: (task: TaskRow) => string | null): TaskViewSource {
  return {
    id: row.id,
    model: row.model,
    status: row.status,
    progress: row.progress,
    created_at: row.created_at,
    estimated_time: row.estimated_time,
    video_duration: row.video_duration,
    billing_rule: row.billing_rule,
    credits_reserved_micro: row.credits_reserved_micro,
    credits_charged_micro: row.credits_charged_micro,
    user_group: row.user_group,
    error_code: row.error_code,
    error_message: row.error_message,
    result_url: row.result_path ? resultUrl(row) : null,
  };
}

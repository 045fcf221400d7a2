import type { Insertable, Selectable } from 'kysely';
import type { TaskViewSource } from '../contract/task-view.ts';
import type { Db } from '../store/db.ts';
import type { TaskInputsTable, TasksTable } from '../store/schema.ts';

export type TaskRow = Selectable<TasksTable>;

/** Writes a new task and its inputs in one transaction. */
export async function insertTask(db: Db, task: Insertable<TasksTable>, inputs: Insertable<TaskInputsTable>[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('tasks').values(task).execute();
    if (inputs.length > 0) await trx.insertInto('task_inputs').values(inputs).execute();
  });
}

/** The task with this id if `userId` owns it (others' tasks are invisible). */
export async function findUserTask(db: Db, userId: string, taskId: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', taskId).where('user_id', '=', userId).executeTakeFirst();
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

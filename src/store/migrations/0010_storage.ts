import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../dialect.ts';

/**
 * CONTRACT §12: inputs are objects of the configured storage, named by key (`inputs/<task>/<file>`)
 * rather than by a path on one node's disk; with VIDGATE_RESULT_URLS=presigned a completed task
 * keeps the presigned URL of its result (valid until the result expires).
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Paths were <storage dir>/inputs/<task id>/<file>: the key is the tail.
  await sql`update task_inputs set path = 'inputs/' || task_id || '/' || ${sql.raw(basenameSql(db))}`.execute(db);
  await db.schema.alterTable('tasks').addColumn('result_url', 'text').execute();
}

/** The file name of task_inputs.path in SQL (the text after the last '/'). */
function basenameSql(db: Kysely<any>): string {
  return isPostgres(db) ? "regexp_replace(path, '^.*/', '')" : "replace(path, rtrim(path, replace(path, '/', '')), '')";
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('tasks').dropColumn('result_url').execute();
}

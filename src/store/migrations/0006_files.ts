import { type Kysely, sql } from 'kysely';

/** Uploaded files (the Files API): served for 72 h, counted against a per-user quota that a user may have of its own. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('original_name', 'text', (c) => c.notNull())
    .addColumn('upload_path', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('stored_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('swept_at', 'bigint')
    .execute();
  await db.schema.createIndex('files_user_live').on('files').columns(['user_id', 'expires_at']).where(sql.raw<boolean>('swept_at is null')).execute();
  await db.schema.createIndex('files_unswept').on('files').column('expires_at').where(sql.raw<boolean>('swept_at is null')).execute();
  await db.schema.alterTable('users').addColumn('max_files', 'integer').execute();
  await db.schema.alterTable('users').addColumn('max_files_reason', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['max_files_reason', 'max_files']) await db.schema.alterTable('users').dropColumn(column).execute();
  await db.schema.dropTable('files').execute();
}

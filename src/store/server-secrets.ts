import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';

/** The install's secret called `name` (32 random bytes, base64), made once by whichever process asks first. */
export async function serverSecret(db: Db, name: string): Promise<Buffer> {
  await db.insertInto('server_secrets').values({ name, value: randomBytes(32).toString('base64') }).onConflict((oc) => oc.column('name').doNothing()).execute();
  const row = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return Buffer.from(row.value, 'base64');
}

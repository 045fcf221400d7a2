import { type RawBuilder, sql } from 'kysely';

/** A page of a list (CONTRACT §10.2): newest first, `before` = the previous page's last_id. */
export type Page<T> = { object: 'list'; data: T[]; has_more: boolean; last_id: string | null };
export type Paging = { limit: number; before?: string };

/**
 * Rows after `last` in newest-first order (by time, then by key for rows of the same time): the keyset condition of the next page.
 * A row-value comparison, which both stores answer from a (time, key) index; the equivalent OR is a scan on SQLite.
 */
export function olderThan(timeColumn: string, keyColumn: string, last: { time: number; key: string }): RawBuilder<boolean> {
  return sql<boolean>`((${sql.ref(timeColumn)}, ${sql.ref(keyColumn)}) < (${last.time}, ${last.key}))`;
}

/** The page from `limit + 1` rows fetched: the first `limit` shown, whether there are more, and the last one's id. */
export function toPage<R, T>(rows: R[], limit: number, view: (row: R) => T, idOf: (item: T) => string): Page<T> {
  const data = rows.slice(0, limit).map(view);
  return { object: 'list', data, has_more: rows.length > limit, last_id: data.length ? idOf(data[data.length - 1]) : null };
}

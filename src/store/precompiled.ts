import { type Compilable, CompiledQuery, type Insertable, type Kysely } from 'kysely';
import type { Store } from './db.ts';
import { isPostgres } from './dialect.ts';
import type { Database } from './schema.ts';

/**
 * A hot query for at most one row, compiled once: each run swaps in new parameters, in the
 * order the builder's `where` values appear (building and compiling cost more than running it
 * on SQLite). Runs as the store's point read (`Store.pointRead`): select its columns by name.
 */
export function precompileOne<Row>(store: Store, query: Compilable<Row>): (parameters: readonly unknown[]) => Promise<Row | undefined> {
  const { sql } = query.compile();
  // PostgreSQL keeps a prepared `select *`'s columns: a migration adding one fails it ("cached plan must not change result type").
  if (/(?:\bselect\s+|\.)\*/i.test(sql)) throw new Error(`a precompiled read names its columns: ${sql}`);
  return store.pointRead<Row>(sql);
}

const compiledInserts = new Map<string, CompiledQuery>();

/** Inserts one row, compiling the statement once per table and set of columns (hot paths). */
export async function insertRow<T extends keyof Database & string>(q: Kysely<Database>, table: T, row: Insertable<Database[T]>): Promise<void> {
  await q.executeQuery(compiledInsert(q, table, [row]) ?? q.insertInto(table).values(row as never).compile());
}

/**
 * An insert of one or many rows, its SQL compiled once per table, columns and number of rows
 * (building a batch's cost ~15 µs a create on SQLite); null when the rows differ in their
 * columns or hold anything but plain values — then the builder, which handles those, makes it.
 */
export function compiledInsert<T extends keyof Database & string>(q: Kysely<Database>, table: T, rows: Insertable<Database[T]>[]): CompiledQuery | null {
  const first = rows[0] as Record<string, unknown>;
  const columns = Object.keys(first).filter((column) => first[column] !== undefined);
  const parameters: unknown[] = [];
  for (const row of rows as Record<string, unknown>[]) {
    let defined = 0;
    for (const column in row) if (row[column] !== undefined) defined++;
    if (defined !== columns.length) return null;
    for (const column of columns) {
      const value = row[column];
      if (value === undefined || (typeof value === 'object' && value !== null)) return null;
      parameters.push(value);
    }
  }
  const key = `${dialectOf(q)}:${table}(${columns.join(',')})×${rows.length}`;
  let compiled = compiledInserts.get(key);
  if (!compiled) {
    const placeholders = Object.fromEntries(columns.map((column) => [column, null])); // a parameter each
    compiled = q.insertInto(table).values(rows.map(() => placeholders) as never).compile();
    compiledInserts.set(key, compiled);
  }
  return { ...compiled, parameters };
}

const compiledStatements = new Map<string, CompiledQuery>();

/**
 * A hot statement compiled once under `name`: `build` makes it with placeholder values, and
 * `parameters` replace them in the order they appear in its SQL.
 */
export function compiledStatement(q: Kysely<Database>, name: string, build: (q: Kysely<Database>) => Compilable, parameters: readonly unknown[]): CompiledQuery {
  const key = `${dialectOf(q)}:${name}`;
  let compiled = compiledStatements.get(key);
  if (!compiled) {
    compiled = build(q).compile();
    if (compiled.parameters.length !== parameters.length) throw new Error(`${name}: ${compiled.parameters.length} placeholders, ${parameters.length} values`);
    compiledStatements.set(key, compiled);
  }
  return { ...compiled, parameters };
}

/** Runs a hot statement on `q` (a transaction too), compiled once (`compiledStatement`). */
export async function runCompiled(q: Kysely<Database>, name: string, build: (q: Kysely<Database>) => Compilable, parameters: readonly unknown[]) {
  return q.executeQuery(compiledStatement(q, name, build, parameters));
}

/**
 * PostgreSQL: data-modifying statements sent as one, each a common table expression (one round
 * trip), their `$n` placeholders renumbered in turn — compiled statements hold no literal `$`.
 */
export function chainedWrites(queries: readonly CompiledQuery[]): CompiledQuery {
  const parameters: unknown[] = [];
  const expressions = queries.map((query, i) => {
    const offset = parameters.length;
    for (const parameter of query.parameters) parameters.push(parameter);
    const text = offset === 0 ? query.sql : query.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `w${i} as (${text})`;
  });
  return CompiledQuery.raw(`with ${expressions.join(', ')} select 1 as written`, parameters);
}

function dialectOf(q: Kysely<any>): 'postgres' | 'sqlite' {
  return isPostgres(q) ? 'postgres' : 'sqlite';
}

import SQLite from 'better-sqlite3';
const stats = new Map<string, { n: number; ns: bigint }>();
const proto = (SQLite as any).prototype;
const origPrepare = proto.prepare;
proto.prepare = function (sql: string) {
  const st = origPrepare.call(this, sql);
  for (const m of ['all', 'run', 'get']) {
    const f = st[m].bind(st);
    st[m] = (...a: unknown[]) => { const t = process.hrtime.bigint(); try { return f(...a); } finally { const s = stats.get(sql) ?? { n: 0, ns: 0n }; s.n++; s.ns += process.hrtime.bigint() - t; stats.set(sql, s); } };
  }
  return st;
};
process.on('SIGINT', () => { for (const [sql, s] of [...stats].sort((a, b) => Number(b[1].ns - a[1].ns)).slice(0, 12)) console.error(s.n, (Number(s.ns) / 1e6).toFixed(0) + 'ms', (Number(s.ns) / s.n / 1000).toFixed(1) + 'us', sql.slice(0, 150)); process.exit(0); });
await import('./vidgate.ts');

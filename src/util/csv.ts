import { Readable } from 'node:stream';

/** One CSV line (RFC 4180): empty for null, quoted when needed, and text that a spreadsheet would run as a formula made inert. */
export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV body: the header row, then a line per row as the source yields them (it pauses while the client is slow). */
export function csvStream<T>(columns: readonly string[], rows: AsyncIterable<T>, toValues: (row: T) => readonly unknown[]): Readable {
  return Readable.from((async function* () {
    yield csvLine(columns);
    let lines: string[] = [];
    for await (const row of rows) {
      lines.push(csvLine(toValues(row)));
      if (lines.length === 200) { yield lines.join(''); lines = []; } // fewer, larger writes
    }
    if (lines.length) yield lines.join('');
  })(), { objectMode: false });
}

const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses 1048576, "512KiB", "20MiB", "2GiB" (or KB/MB/GB, read as the same binary units) into bytes; null if malformed. */
export function parseBytes(text: string | number): number | null {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])i?b?|b)?\s*$/i.exec(text);
  if (!match) return null;
  const bytes = Math.round(Number(match[1]) * UNIT_BYTES[(match[2] ?? 'b').toLowerCase()]);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** The record without its undefined entries (JSON bodies leave absent fields out). */
export function definedEntries(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

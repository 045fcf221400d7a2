import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { API_ERRORS, TASK_ERROR_CODES } from '../../src/contract/errors.ts';

// The spec sits beside the repository (as in CI); a lone clone skips the cross-check.
const contractFile = new URL('../../../shared/CONTRACT.md', import.meta.url);
const contract = existsSync(contractFile) ? readFileSync(contractFile, 'utf8') : '';

/** Rows of CONTRACT §1's error table: [status, code, type]. */
function contractErrors(): [number, string, string][] {
  const rows = [...contract.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \| `([a-z_]+)` \|/gm)];
  return rows.map((m) => [Number(m[1]), m[2], m[3]]);
}

describe('error catalogue', { skip: contract ? false : 'no ../shared/CONTRACT.md beside the repository' }, () => {
  it('holds every error of CONTRACT §1 with its status and type', () => {
    const rows = contractErrors();
    assert.ok(rows.length >= 12);
    for (const [status, code, type] of rows) {
      assert.deepEqual(API_ERRORS[code as keyof typeof API_ERRORS], { status, type }, code);
    }
  });
  it('holds nothing the contract lacks but the route-level not_found and the file quota', () => {
    const documented = new Set(contractErrors().map(([, code]) => code));
    assert.deepEqual(Object.keys(API_ERRORS).filter((code) => !documented.has(code)), ['not_found', 'quota_exceeded']);
  });
  it('lists exactly the task error codes of CONTRACT §3', () => {
    const section = contract.slice(contract.indexOf('Task error codes:'), contract.indexOf('Result URLs'));
    const documented = [...section.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    assert.deepEqual([...TASK_ERROR_CODES].sort(), documented.sort());
  });
});

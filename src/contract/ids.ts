import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const TASK_ID_PATTERN = /^task-unified-\d{1,12}-[a-z0-9]{8}$/;

/** Random characters from `alphabet`, without modulo bias. */
export function randomChars(length: number, alphabet = ALPHABET): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 256 - (256 % alphabet.length)) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** `task-unified-<created unix seconds>-<8 chars [a-z0-9]>` */
export function newTaskId(createdSec: number): string {
  return `task-unified-${createdSec}-${randomChars(8)}`;
}

import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const TASK_ID_PATTERN = /^task-unified-\d{1,12}-[a-z0-9]{8}$/;

// One randomBytes call per id cost more than the rest of a create; draw from a pool instead.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;

function randomByte(): number {
  if (poolOffset === POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  return pool[poolOffset++];
}

/** Random characters from `alphabet`, without modulo bias. */
export function randomChars(length: number, alphabet = ALPHABET): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte < limit) out += alphabet[byte % alphabet.length];
  }
  return out;
}

/** `task-unified-<created unix seconds>-<8 chars [a-z0-9]>` */
export function newTaskId(createdSec: number): string {
  return `task-unified-${createdSec}-${randomChars(8)}`;
}

import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Random bytes are drawn 4 KiB at a time: one getrandom call per few hundred
// ids instead of one per id (it showed in the benchmark profile).
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function nextByte(): number {
  if (offset === POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  return pool[offset++]!;
}

/** Random base62 string from a CSPRNG; 32 characters carry ~190 bits. */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const byte = nextByte();
    // 248 = 4 * 62: rejecting the rest keeps the alphabet unbiased.
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out;
}

/**
 * Ids sort by creation time (a base36 millisecond prefix) so listings and
 * indexes stay ordered, and carry a type prefix so a pasted id says what it is.
 */
export function newId(prefix: "run" | "ses" | "key" | "tu" | "req"): string {
  return `${prefix}_${Date.now().toString(36)}${randomBase62(12)}`;
}

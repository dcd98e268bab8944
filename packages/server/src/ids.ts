import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Random base62 string; 22 characters carry ~131 bits. */
export function randomBase62(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = "";
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const byte = bytes[i]!;
    // 248 = 4 * 62: rejecting the rest keeps the alphabet unbiased.
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out.length === length ? out : out + randomBase62(length - out.length);
}

/**
 * Ids sort by creation time (a base36 millisecond prefix) so listings and
 * indexes stay ordered, and carry a type prefix so a pasted id says what it is.
 */
export function newId(prefix: "run" | "ses" | "key" | "tu" | "req"): string {
  return `${prefix}_${Date.now().toString(36)}${randomBase62(12)}`;
}

import zlib from "node:zlib";
import { API_KEY_PREFIX } from "@agentd/protocol";
import { randomBase62 } from "../ids.js";

/*
 * The API key format (issue #12, docs/security.md): `agd_`, 32 random base62
 * characters (~190 bits from the CSPRNG) and 6 base62 characters of their
 * CRC-32. The checksum lets a secret scanner, or agentd before any store
 * read, tell a real key from a typo or noise; it hides nothing and proves
 * nothing (the HMAC in the store does). Keys made before it (`agd_` + 32,
 * no checksum) keep working: they are looked up under their old hash.
 */

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const SHAPE = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH}}([0-9A-Za-z]{${CHECKSUM_LENGTH}})?$`);

/** A new key: prefix, random part, checksum. */
export function newApiKey(): string {
  const random = randomBase62(RANDOM_LENGTH);
  return `${API_KEY_PREFIX}${random}${checksum(random)}`;
}

/**
 * What a presented key is: `current` (the format above, checksum right),
 * `legacy` (the format before the checksum), or `malformed` (neither: refused
 * without a store read).
 */
export function keyShape(key: string): "current" | "legacy" | "malformed" {
  const match = SHAPE.exec(key);
  if (!match) return "malformed";
  if (match[1] === undefined) return "legacy";
  const random = key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + RANDOM_LENGTH);
  return match[1] === checksum(random) ? "current" : "malformed";
}

/** Anything shaped like a key (either format), wherever it sits in a text. */
const ANYWHERE = new RegExp(`${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH}}(?:[0-9A-Za-z]{${CHECKSUM_LENGTH}})?(?![0-9A-Za-z])`, "g");

/**
 * `text` with every key-shaped run replaced by `agd_…` (its prefix kept):
 * applied to error bodies and log lines, so a key pasted where an id or a
 * name belongs is never echoed back or written down (docs/security.md).
 */
export function redactKeys(text: string): string {
  return text.includes(API_KEY_PREFIX) ? text.replace(ANYWHERE, (key) => `${key.slice(0, API_KEY_PREFIX.length + 4)}…`) : text;
}

/** CRC-32 (zlib's, Node ≥ 20.15; else the table below) of the random part, as 6 base62 digits. */
function checksum(random: string): string {
  let value = crc32(random);
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

const crc32: (text: string) => number =
  typeof zlib.crc32 === "function"
    ? (text) => zlib.crc32(text)
    : (() => {
        const table = Array.from({ length: 256 }, (_, n) => {
          for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
          return n >>> 0;
        });
        return (text: string) => {
          let crc = 0xffffffff;
          for (const byte of Buffer.from(text)) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
          return (crc ^ 0xffffffff) >>> 0;
        };
      })();

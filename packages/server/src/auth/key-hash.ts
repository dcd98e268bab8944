import { createHmac, timingSafeEqual } from "node:crypto";
import { sha256Hex } from "../digest.js";
import type { Store } from "../store/types.js";
import { keyShape } from "./key-format.js";

/** The shortest AGENTD_KEY_PEPPER accepted: 32 characters (a `openssl rand -base64 32` is 44). */
const MIN_PEPPER_LENGTH = 32;

/**
 * How a key is stored (issue #12, docs/security.md): HMAC-SHA-256 under the
 * server's pepper, so a copy of the database without the pepper cannot
 * even confirm a guessed key. Keys made before (no checksum) were stored as
 * plain SHA-256 and are looked up so; the shape of a key says which it is,
 * so each lookup is one store read, and a malformed key none.
 */
export class KeyHasher {
  constructor(private readonly pepper: Buffer) {}

  /** The stored form of a presented key; undefined for a key no hash can match (refused without a store read). */
  hash(key: string): string | undefined {
    switch (keyShape(key)) {
      case "current":
        return createHmac("sha256", this.pepper).update(key).digest("hex");
      case "legacy":
        return sha256Hex(key);
      default:
        return undefined;
    }
  }

  /** Compares a stored hash with a computed one in constant time (the store found the row by it; this does not trust the index). */
  static same(stored: string, computed: string): boolean {
    const a = Buffer.from(stored, "hex");
    const b = Buffer.from(computed, "hex");
    return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
  }
}

/** The hasher of this store's keys: AGENTD_KEY_PEPPER when set, else the pepper the store keeps (Store.keyPepper). */
export async function keyHasher(store: Store, env: NodeJS.ProcessEnv = process.env): Promise<KeyHasher> {
  const configured = env.AGENTD_KEY_PEPPER?.trim();
  if (configured) {
    if (configured.length < MIN_PEPPER_LENGTH) {
      throw new Error(`AGENTD_KEY_PEPPER must be at least ${MIN_PEPPER_LENGTH} characters (try: openssl rand -base64 32)`);
    }
    return new KeyHasher(Buffer.from(configured, "utf8"));
  }
  return new KeyHasher(await store.keyPepper());
}

import crypto from "node:crypto";

/**
 * SHA-256 of a string, as hex. The one-shot `crypto.hash` (Node ≥ 20.12)
 * costs about a quarter of a Hash object's 2 µs, and this runs on every
 * request (the key's lookup) and every run (its trace id); older Node 20s
 * take the Hash object.
 */
export const sha256Hex: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

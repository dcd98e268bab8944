import fc from "fast-check";
import { deep, hugeString, raw, type DeepStyle, type Raw } from "./json-text.js";

/*
 * The hostile leaves the mutations plant: strings, keys, numbers, sizes.
 */

/** Strings a validator, a database or a log line may trip on. */
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff",
    "x\ud800y",
    "\ud83d",
    "\udc00\ud800",
    "\uffff",
    "\ufeff",
    "\u2028\u2029",
    "\u202e",
    "💥",
    "\u0007\u001b[31m",
    "",
    " ",
    "null",
    "NaN",
    "-1",
    "[]",
    "{}",
    "%00",
    "%",
    "../../etc/passwd",
    "'; DROP TABLE runs; --",
    "\\",
    '"',
    "\r\n",
    "${jndi:x}",
    "__proto__",
    "constructor",
  ),
  fc.string({ unit: fc.constantFrom("\u0000", "\ud800", "\udc00", "a", "é", "\n", '"', "\\"), maxLength: 16 }),
  fc.string({ unit: "binary", maxLength: 24 }),
);

/** Keys that reach prototypes when code assigns them carelessly, and others a validator may not expect. */
export const trickyKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype") },
  {
    weight: 3,
    arbitrary: fc.constantFrom("toString", "hasOwnProperty", "valueOf", "", "a\u0000", "\ud800", "$ref", "type", "promtp", "systemprompt", "x".repeat(300), "tools.0.name", "1"),
  },
  { weight: 1, arbitrary: weirdString },
);

/** Numbers JSON can carry that code may not expect; some only as text (`1e400` parses to Infinity). */
export const weirdNumber: fc.Arbitrary<number | Raw> = fc.oneof(
  fc.constantFrom(-1, 0, -0, 1.5, 0.1, 1e21, 1e308, -1e308, 5e-324, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 31, 2 ** 32 + 1),
  fc.constantFrom("1e400", "-1e400", "123456789012345678901234567890", "1E2", "-0.0", "0e0", "1.0000000000000000000001").map((text) => raw(text, text)),
  fc.double(),
);

/** A value of any JSON type, to put where another type belongs. */
export const anyType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);

export const DEPTHS = [2, 63, 64, 65, 100, 1_000, 10_000, 100_000] as const;
export const deepValue: fc.Arbitrary<Raw> = fc
  .tuple(fc.constantFrom(...DEPTHS), fc.constantFrom<DeepStyle>("array", "object", "schema", "mixed", "unclosed"))
  .map(([depth, style]) => deep(depth, style));

/** Strings around the caps: field maxima (4,096, 200,000, 1,000,000 characters) and the body limit. */
export function hugeValue(maxBodyBytes: number): fc.Arbitrary<Raw> {
  return fc
    .tuple(
      fc.constantFrom(4_097, 8_193, 65_537, 200_001, 1_000_001, maxBodyBytes - 4_096, maxBodyBytes + 1, 2 * maxBodyBytes),
      fc.constantFrom("a", "é", "\u0000", "\ud800", "a "),
    )
    // Counted in characters of the unit; escapes and multi-byte units make the body larger still.
    .map(([size, unit]) => hugeString(unit, Math.max(1, Math.floor(size / unit.length / (unit === "\u0000" || unit === "\ud800" ? 6 : 1)))));
}

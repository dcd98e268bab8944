/**
 * JSON text for fuzzed bodies. Values are plain JS trees in which a `Raw`
 * node stands for text written out verbatim: nesting 100,000 levels deep,
 * a 4 MiB string, a number JSON.stringify cannot write (`1e400`), a
 * duplicated key. Raw nodes render lazily, so a batch of generated requests
 * stays small until one is sent, and print as their label in reports.
 */
export class Raw {
  constructor(
    /** What a report shows instead of the text: `<"a" x 4194305>`. */
    readonly label: string,
    readonly render: () => string,
  ) {}
}

export const raw = (label: string, text: string | (() => string)): Raw => new Raw(label, typeof text === "string" ? () => text : text);

/**
 * Serializes like JSON.stringify, with Raw nodes verbatim and every own key
 * kept (`__proto__` included: objects are built with defineProperty). Strings
 * go through JSON.stringify, which writes NUL as `\u0000` and lone
 * surrogates as `\ud800` escapes. `preview` renders Raw nodes as their label.
 */
export function jsonText(value: unknown, preview = false): string {
  if (value instanceof Raw) return preview ? value.label : value.render();
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((item) => jsonText(item, preview)).join(",")}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value)) parts.push(`${JSON.stringify(key)}:${jsonText((value as Record<string, unknown>)[key], preview)}`);
  return `{${parts.join(",")}}`;
}

/** Sets an own property, even `__proto__`. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy that keeps own `__proto__` keys and Raw nodes. */
export function clone<T>(value: T): T {
  if (value === null || typeof value !== "object" || value instanceof Raw) return value;
  if (Array.isArray(value)) return value.map((item) => clone(item)) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(copy, key, clone((value as Record<string, unknown>)[key]));
  return copy as T;
}

export type DeepStyle = "array" | "object" | "schema" | "mixed" | "unclosed";

/** `depth` containers nested in one another, built as a string: a deep object would overflow JSON.stringify itself. */
export function deep(depth: number, style: DeepStyle): Raw {
  return new Raw(`<${style} nested ${depth} deep>`, () => {
    switch (style) {
      case "array":
        return "[".repeat(depth) + "]".repeat(depth);
      case "object":
        return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
      case "schema":
        // What a recursive JSON Schema walker (ajv, a tool's parameters) would descend into.
        return '{"type":"object","properties":{"x":'.repeat(depth) + '{"type":"string"}' + "}}".repeat(depth);
      case "mixed":
        return '[{"k":'.repeat(Math.ceil(depth / 2)) + "null" + "}]".repeat(Math.ceil(depth / 2));
      case "unclosed":
        return "[".repeat(depth);
    }
  });
}

/** A string of `count` repetitions of `unit`, as a JSON string literal. */
export function hugeString(unit: string, count: number): Raw {
  const literal = JSON.stringify(unit).slice(1, -1);
  return new Raw(`<${JSON.stringify(unit)} x ${count}>`, () => `"${literal.repeat(count)}"`);
}

/** At most this much text for one repeated array: twice the default body limit is enough to pass any limit. */
const MANY_MAX_CHARS = 8 * 1024 * 1024;

/** An array of `count` copies of `item` (fewer when that would pass 8 MiB). */
export function manyOf(item: unknown, count: number): Raw {
  return new Raw(`<[${jsonText(item, true).slice(0, 60)} x ${count}]>`, () => {
    const one = jsonText(item);
    const n = Math.max(1, Math.min(count, Math.floor(MANY_MAX_CHARS / (one.length + 1))));
    return `[${new Array<string>(n).fill(one).join(",")}]`;
  });
}

/** Percent-encodes like encodeURIComponent, but lone surrogates too (as their WTF-8 bytes) instead of throwing. */
export function percentEncode(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (/[A-Za-z0-9\-_.!~*'()]/.test(ch)) {
      out += ch;
      continue;
    }
    let code = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
      i++;
    }
    for (const byte of utf8Bytes(code)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** UTF-8 (WTF-8 for a lone surrogate) bytes of one code point. */
function utf8Bytes(code: number): number[] {
  if (code < 0x80) return [code];
  if (code < 0x800) return [0xc0 | (code >> 6), 0x80 | (code & 63)];
  if (code < 0x10000) return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63)];
  return [0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63)];
}

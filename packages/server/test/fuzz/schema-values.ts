import fc from "fast-check";
import { setOwn } from "./json-text.js";

/** The subset of JSON Schema (2020-12, as zod 4 writes it) the OpenAPI document uses. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  $defs?: Record<string, JsonSchema>;
  [key: string]: unknown;
}

/** Resolves `#/...` references against the OpenAPI document (components) or the schema's own `$defs`. */
export function resolver(doc: Record<string, unknown>): (schema: JsonSchema, root: JsonSchema) => JsonSchema {
  return (schema, root) => {
    let current = schema;
    for (let hops = 0; current.$ref !== undefined && hops < 16; hops++) {
      const ref = current.$ref;
      if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
      const steps = ref.slice(2).split("/").map((step) => step.replace(/~1/g, "/").replace(/~0/g, "~"));
      // zod writes `$defs` into the schema it generated; anything else lives in the document.
      let target: unknown = steps[0] === "$defs" ? root : doc;
      for (const step of steps) target = (target as Record<string, unknown> | undefined)?.[step];
      if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
      current = target as JsonSchema;
    }
    return current;
  };
}

const SMALL = 4;

/**
 * Values that satisfy the schema, as far as JSON Schema can say: the
 * cross-field rules zod adds with refinements (`prompt` or `messages`) are
 * not in it, so a route's hint supplies a valid core to merge these onto.
 * Strings and lists stay short: size is the mutations' business.
 */
export function schemaValue(schema: JsonSchema, resolve: (s: JsonSchema, root: JsonSchema) => JsonSchema, root: JsonSchema = schema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, root);
  const recurse = (child: JsonSchema) => schemaValue(child, resolve, root, depth + 1);
  if (depth > 8) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum !== undefined) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map(recurse));
  if (s.allOf !== undefined && s.allOf.length > 0) return recurse(s.allOf[0]!);
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((type) => recurse({ ...s, type })));
  switch (s.type ?? inferType(s)) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer": {
      const min = Math.max(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000), Number.MIN_SAFE_INTEGER);
      const max = Math.min(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1_000_000), Number.MAX_SAFE_INTEGER);
      return fc.oneof(fc.integer({ min, max: Math.min(max, min + 100) }), fc.integer({ min, max }));
    }
    case "number": {
      const min = s.minimum ?? s.exclusiveMinimum ?? -1e6;
      const max = s.maximum ?? s.exclusiveMaximum ?? 1e6;
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true, minExcluded: s.exclusiveMinimum !== undefined, maxExcluded: s.exclusiveMaximum !== undefined });
    }
    case "string":
      return stringValue(s);
    case "array": {
      const minLength = s.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? SMALL, SMALL));
      return fc.array(s.items ? recurse(s.items) : anyJson, { minLength, maxLength });
    }
    case "object":
      return objectValue(s, recurse);
    default:
      return anyJson;
  }
}

function inferType(s: JsonSchema): string | undefined {
  if (s.properties !== undefined || s.additionalProperties !== undefined) return "object";
  if (s.items !== undefined) return "array";
  return undefined;
}

/** Any small JSON value: what `{}` (no constraints) admits. */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

function stringValue(s: JsonSchema): fc.Arbitrary<string> {
  if (s.format === "date-time") return fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString());
  const minLength = s.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(s.maxLength ?? 24, 24));
  if (s.pattern !== undefined) {
    return fc.stringMatching(new RegExp(s.pattern)).filter((value) => value.length >= minLength && value.length <= (s.maxLength ?? Infinity));
  }
  return fc.string({ minLength, maxLength });
}

function objectValue(s: JsonSchema, recurse: (child: JsonSchema) => fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  const properties = s.properties ?? {};
  const required = new Set(s.required ?? []);
  const known = fc.record(
    Object.fromEntries(Object.entries(properties).map(([key, child]) => [key, recurse(child)])),
    { requiredKeys: [...required].filter((key) => key in properties) },
  ) as fc.Arbitrary<Record<string, unknown>>;
  const extra = s.additionalProperties;
  if (extra === undefined || extra === false || Object.keys(properties).length > 0) return known;
  // A record (`z.record`): a few entries with keys the schema allows.
  const key = s.propertyNames ? (recurse(s.propertyNames) as fc.Arbitrary<string>) : fc.string({ minLength: 1, maxLength: 12 });
  const value = extra === true ? anyJson : recurse(extra);
  return fc.uniqueArray(fc.tuple(key, value), { maxLength: 3, selector: ([k]) => k }).map((entries) => {
    const record: Record<string, unknown> = {};
    for (const [k, v] of entries) setOwn(record, k, v);
    return record;
  });
}

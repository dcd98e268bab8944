import { OUTPUT_SCHEMA_MARKER } from "../engine/output.js";

/**
 * When the system prompt asks for JSON matching a schema (structured output),
 * the mock answers with the simplest value that matches: demos and tests of
 * `outputSchema` work without a real model.
 */
export function mockJsonAnswer(system: string): string | undefined {
  const at = system.lastIndexOf(OUTPUT_SCHEMA_MARKER);
  if (at < 0) return undefined;
  try {
    return JSON.stringify(exampleOf(JSON.parse(system.slice(at + OUTPUT_SCHEMA_MARKER.length)) as Schema));
  } catch {
    return undefined;
  }
}

type Schema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  minimum?: number;
  minLength?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
};

function exampleOf(schema: Schema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const alternative = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (alternative) return exampleOf(alternative);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      // Clamped: a schema is caller input, and the mock must not build a gigabyte for it.
      return "mock".padEnd(Math.min(schema.minLength ?? 0, 10_000), "k");
    case "number":
    case "integer":
      return Math.max(0, Math.ceil(schema.minimum ?? 0));
    case "boolean":
      return false;
    case "null":
      return null;
    case "array":
      return Array.from({ length: Math.min(schema.minItems ?? 0, 100) }, () => exampleOf(schema.items ?? {}));
    default: {
      const out: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(schema.properties ?? {})) out[key] = exampleOf(property);
      return out;
    }
  }
}

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

/**
 * JSON Schema validation of tool arguments and structured output, with
 * ajv (the validator the MCP SDK and most of the ecosystem use). Compiled
 * validators are cached by schema text: agents reuse a handful of schemas.
 */
const ajv = new Ajv({ allErrors: true, strict: false });
const cache = new Map<string, ValidateFunction | Error>();

export interface SchemaIssue {
  path: string;
  message: string;
}

/** Problems of `value` against `schema`; an empty list when it matches. */
export function checkSchema(schema: Record<string, unknown>, value: unknown): SchemaIssue[] {
  const validate = compile(schema);
  if (validate instanceof Error) return [{ path: "(schema)", message: `the schema itself is invalid: ${validate.message}` }];
  if (validate(value)) return [];
  return (validate.errors ?? []).map(toIssue);
}

/** Throws if the schema cannot be compiled (checked when an agent is defined). */
export function assertCompilable(schema: Record<string, unknown>): void {
  const validate = compile(schema);
  if (validate instanceof Error) throw validate;
}

export function describeIssues(issues: SchemaIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
}

function compile(schema: Record<string, unknown>): ValidateFunction | Error {
  const key = JSON.stringify(schema);
  let entry = cache.get(key);
  if (!entry) {
    // `$schema` names a draft (zod 4 writes 2020-12); the keywords tools use
    // mean the same in all of them, so it is ignored rather than refused.
    const { $schema: _draft, ...body } = schema;
    try {
      entry = ajv.compile(body);
    } catch (error) {
      entry = error instanceof Error ? error : new Error(String(error));
    }
    if (cache.size > 1000) cache.clear();
    cache.set(key, entry);
  }
  return entry;
}

function toIssue(error: ErrorObject): SchemaIssue {
  const path = error.instancePath.length > 0 ? error.instancePath.slice(1).replaceAll("/", ".") : "(root)";
  const extra = error.keyword === "additionalProperties" ? ` '${String(error.params.additionalProperty)}'` : "";
  return { path, message: `${error.message ?? "is invalid"}${extra}` };
}

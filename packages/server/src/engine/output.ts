import { MODEL_JSON_MAX_DEPTH, tooDeep } from "../json-depth.js";
import { checkSchema, type SchemaIssue } from "./schema-check.js";

/**
 * Structured output (`outputSchema`): the model is told the schema in its
 * system prompt, and its final answer must parse as JSON that matches.
 * Providers' native JSON modes differ too much to rely on; this works with
 * every model, and one repair turn fixes most near misses.
 */
export const OUTPUT_SCHEMA_MARKER = "that matches this JSON Schema:\n";

export function outputInstructions(schema: Record<string, unknown>): string {
  return `\n\nRespond with only a JSON value (no prose, no code fences) ${OUTPUT_SCHEMA_MARKER}${JSON.stringify(schema)}`;
}

export type OutputCheck = { ok: true; output: unknown; text: string } | { ok: false; issues: SchemaIssue[] };

export function checkOutput(schema: Record<string, unknown>, text: string): OutputCheck {
  let value: unknown;
  try {
    value = JSON.parse(stripFences(text));
  } catch (error) {
    return { ok: false, issues: [{ path: "(root)", message: `the answer is not JSON: ${(error as Error).message}` }] };
  }
  const deep = tooDeep(value, MODEL_JSON_MAX_DEPTH);
  if (deep !== undefined) return { ok: false, issues: [{ path: deep, message: `nested more than ${MODEL_JSON_MAX_DEPTH} levels deep` }] };
  const issues = checkSchema(schema, value);
  return issues.length === 0 ? { ok: true, output: value, text: JSON.stringify(value) } : { ok: false, issues };
}

/** The message of the repair turn. */
export function repairPrompt(issues: SchemaIssue[]): string {
  const list = issues.map((issue) => `- ${issue.path}: ${issue.message}`).join("\n");
  return `Your answer did not match the required JSON Schema:\n${list}\nReply with only the corrected JSON.`;
}

function stripFences(text: string): string {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(trimmed);
  return fenced ? fenced[1]! : trimmed;
}

import type { z } from "zod";

/**
 * Caps on the caller-supplied JSON values whose size zod's own checks do
 * not bound (a JSON Schema, `dependencies`): measured serialised, in UTF-8
 * bytes. Bodies reach these checks only after the HTTP edge has bounded
 * their nesting depth, so the JSON.stringify here cannot overflow the stack.
 */
export const FIELD_LIMITS = {
  /** A tool's `parameters` (JSON Schema). */
  toolParametersBytes: 65_536,
  /** An agent's `outputSchema` (JSON Schema). */
  outputSchemaBytes: 65_536,
  /** A run's `dependencies`. */
  dependenciesBytes: 65_536,
  /** One message's `content`, in characters. */
  messageChars: 1_000_000,
} as const;

/** A refinement: the value serialised as JSON is at most `max` bytes. */
export function maxJsonBytes(max: number, what: string) {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    const bytes = new TextEncoder().encode(JSON.stringify(value) ?? "").length;
    if (bytes > max) ctx.addIssue({ code: "custom", message: `${what} is ${bytes} bytes serialized; the limit is ${max}` });
  };
}

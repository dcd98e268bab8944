import type { z } from "zod";
import { AgentdError } from "../errors.js";

/** The query string as an object; a parameter given more than once becomes a list of its values. */
export function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of params) {
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/**
 * Validates query parameters with a protocol schema. Every problem names
 * its parameter (`limit: must be ...`), as body errors name their field.
 */
export function parseQuery<S extends z.ZodType>(params: URLSearchParams, schema: S): z.output<S> {
  const parsed = schema.safeParse(queryObject(params));
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") return issue.keys.map((key) => ({ path: key, message: "unknown parameter" }));
    // Only a repeated parameter arrives as anything but a string.
    const message = issue.code === "invalid_type" ? "given more than once; give it once" : issue.message;
    return [{ path: issue.path.join(".") || "(query)", message }];
  });
  throw new AgentdError("invalid_request", issues.map((issue) => `${issue.path}: ${issue.message}`).join("; "), { issues });
}

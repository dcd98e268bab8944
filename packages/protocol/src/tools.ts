import { z } from "zod";
import { FIELD_LIMITS, maxJsonBytes } from "./limits.js";

export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** A JSON Schema describing a tool's arguments: must be an object schema. */
export const ToolParameters = z
  .record(z.string(), z.unknown())
  .refine((schema) => schema.type === undefined || schema.type === "object", {
    message: 'a tool\'s parameters must be a JSON Schema with "type": "object"',
  })
  .superRefine(maxJsonBytes(FIELD_LIMITS.toolParametersBytes, "parameters"));
export type ToolParameters = z.infer<typeof ToolParameters>;

const toolName = z.string().regex(TOOL_NAME_PATTERN, "tool names match ^[a-zA-Z0-9_-]{1,64}$");
const description = z.string().max(4096);

/** Fields every tool ref has: the model sees name, description and parameters. */
const toolBase = {
  name: toolName,
  description: description.optional(),
  parameters: ToolParameters.optional(),
  /** Pause the run for a human's approval before each call (`approval_required`). */
  requiresApproval: z.boolean().optional(),
};

/**
 * A tool executed in the caller's process (seed 004 §1): the run pauses,
 * emits `local_tool_call`, and resumes when the caller POSTs the result.
 */
export const LocalToolRef = z.strictObject({ kind: z.literal("local"), ...toolBase });
export type LocalToolRef = z.infer<typeof LocalToolRef>;

/**
 * A header value of an HTTP tool: a plain string, or a secret read from the
 * server's environment when the call is made (never stored in the spec).
 * `{ env }` is allowed only in tools the operator defines in the server
 * config (`agents.<id>.tools`); in a run or session request it is a 400
 * (docs/tools-http.md). Snapshots show string values as "[redacted]".
 */
export const HttpHeaderValue = z.union([
  z.string().max(8192),
  z.strictObject({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "env must be an environment variable name"),
    prefix: z.string().max(64).optional(),
  }),
]);
export type HttpHeaderValue = z.infer<typeof HttpHeaderValue>;

/**
 * A server tool that calls an HTTP endpoint. `url` is a template whose
 * `{param}` placeholders are filled from the arguments, URL-encoded; the
 * arguments not used in the URL go in the JSON body (or the query string
 * for GET and DELETE). Defined in a request rather than the server config,
 * it may reach only the hosts of the server's `httpTools.requestAllow`
 * (none by default: 403), and its host may not be a placeholder.
 */
export const HttpToolRef = z.strictObject({
  kind: z.literal("http"),
  ...toolBase,
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]),
  url: z.string().min(1).max(4096),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, "not a valid header name"), HttpHeaderValue).optional(),
  /** @default 30_000 */
  timeoutMs: z.number().int().min(1).max(600_000).optional(),
});
export type HttpToolRef = z.infer<typeof HttpToolRef>;

/** A tool of an MCP server named in the server config; description and parameters come from the server unless given. */
export const McpToolRef = z.strictObject({
  kind: z.literal("mcp"),
  ...toolBase,
  server: z.string().min(1).max(128),
  tool: z.string().min(1).max(128),
});
export type McpToolRef = z.infer<typeof McpToolRef>;

/** A tool written in TypeScript in the config file (`defineTool`), by name. */
export const CodeToolRef = z.strictObject({ kind: z.literal("code"), ...toolBase });
export type CodeToolRef = z.infer<typeof CodeToolRef>;

export const TOOL_KINDS = ["local", "http", "mcp", "code"] as const;

export const ToolRef = z.discriminatedUnion("kind", [LocalToolRef, HttpToolRef, McpToolRef, CodeToolRef], {
  error: (issue) =>
    issue.code === "invalid_union" ? `unsupported tool kind; use one of ${TOOL_KINDS.map((kind) => `"${kind}"`).join(", ")}` : undefined,
});
export type ToolRef = z.infer<typeof ToolRef>;

/** A tool call the model made, as recorded in `assistant_message`. */
export const ToolCall = z.object({
  toolUseId: z.string(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
});
export type ToolCall = z.infer<typeof ToolCall>;

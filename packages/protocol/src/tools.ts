import { z } from "zod";

export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** A JSON Schema describing a tool's arguments: must be an object schema. */
export const ToolParameters = z
  .record(z.string(), z.unknown())
  .refine((schema) => schema.type === undefined || schema.type === "object", {
    message: 'a tool\'s parameters must be a JSON Schema with "type": "object"',
  });
export type ToolParameters = z.infer<typeof ToolParameters>;

/**
 * A tool executed in the caller's process (seed 004 §1): the run pauses,
 * emits `local_tool_call`, and resumes when the caller POSTs the result.
 */
export const LocalToolRef = z.strictObject({
  kind: z.literal("local"),
  name: z.string().regex(TOOL_NAME_PATTERN, "tool names match ^[a-zA-Z0-9_-]{1,64}$"),
  description: z.string().max(4096).optional(),
  parameters: ToolParameters.optional(),
});
export type LocalToolRef = z.infer<typeof LocalToolRef>;

export const ToolRef = z.discriminatedUnion("kind", [LocalToolRef], {
  error: (issue) =>
    issue.code === "invalid_union" ? 'unsupported tool kind; this server accepts "local"' : undefined,
});
export type ToolRef = z.infer<typeof ToolRef>;

/** A tool call the model made, as recorded in `assistant_message`. */
export const ToolCall = z.object({
  toolUseId: z.string(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
});
export type ToolCall = z.infer<typeof ToolCall>;

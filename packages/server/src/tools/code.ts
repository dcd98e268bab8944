import { TOOL_NAME_PATTERN, type ToolParameters } from "@agentd/protocol";
import type { ServerTool, ToolContext } from "./types.js";

/** Anything with zod 4's `toJSONSchema()` (a zod object schema), or a plain JSON Schema. */
type ParametersInput = ToolParameters | { toJSONSchema(): Record<string, unknown>; safeParse?: unknown };

/** A tool written in TypeScript in the config file, run inside agentd (`"kind": "code"`). */
export interface CodeToolDefinition {
  name: string;
  description?: string;
  parameters?: ParametersInput;
  /** Gets the validated arguments, the run's dependencies and an abort signal; returns the result. */
  execute(args: Record<string, unknown>, context: ToolContext): unknown;
}

/**
 * Declares a code tool for `agentd.config.ts`:
 *
 *   export default { tools: [defineTool({ name: "greet", parameters: z.object({ who: z.string() }),
 *     execute: ({ who }, { dependencies }) => `Hello ${who}, from ${dependencies.robot_name}` })] }
 */
export function defineTool<T extends CodeToolDefinition>(definition: T): T {
  if (!TOOL_NAME_PATTERN.test(definition.name)) throw new Error(`tool name '${definition.name}' must match ${TOOL_NAME_PATTERN}`);
  if (typeof definition.execute !== "function") throw new Error(`tool '${definition.name}' needs an execute function`);
  return definition;
}

export function isCodeToolDefinition(value: unknown): value is CodeToolDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as CodeToolDefinition).name === "string" &&
    typeof (value as CodeToolDefinition).execute === "function"
  );
}

export function codeTool(definition: CodeToolDefinition): ServerTool {
  return {
    name: definition.name,
    description: definition.description ?? "",
    parameters: toJsonSchema(definition.parameters),
    execute: async (args, context) => definition.execute(args, context),
  };
}

function toJsonSchema(parameters: ParametersInput | undefined): ToolParameters {
  if (parameters === undefined) return { type: "object", properties: {} };
  if (typeof (parameters as { toJSONSchema?: unknown }).toJSONSchema === "function") {
    const { $schema: _ignored, ...schema } = (parameters as { toJSONSchema(): Record<string, unknown> }).toJSONSchema();
    return schema;
  }
  return parameters as ToolParameters;
}

import type { ToolRef } from "@agentd/protocol";

/** What `execute` receives besides its arguments. */
export interface ToolContext {
  /** Aborted when the run ends or the caller gives up on it. */
  signal: AbortSignal;
  runId: string;
  toolUseId: string;
}

/** A JSON Schema object (`{ type: "object", properties, ... }`). */
export type JsonSchema = Record<string, unknown>;

/**
 * Any validator with zod's `safeParse` shape. zod 4 schemas also carry
 * `toJSONSchema()`, which is how the SDK learns the wire schema without
 * depending on zod.
 */
export interface SchemaLike<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: unknown };
  toJSONSchema?: () => unknown;
}

export type InferArgs<S> = S extends { safeParse(value: unknown): infer R } ? (R extends { success: true; data: infer D } ? D : never) : never;

/** A tool executed in this process when the model calls it (`defineTool`). */
export interface LocalTool<Args = Record<string, unknown>> {
  readonly kind: "local";
  readonly name: string;
  readonly description: string | undefined;
  /** The JSON Schema sent to the server. */
  readonly parameters: JsonSchema;
  /** Validates arguments before `execute`, when the tool was defined with a schema. */
  readonly schema: SchemaLike<Args> | undefined;
  /** Each call waits for a human's decision first (`approval_required`; see `onApproval`). */
  readonly requiresApproval?: boolean;
  execute(args: Args, context: ToolContext): unknown;
}

/** A tool entry of a run or session: a server-side reference or a `defineTool` result. */
// `any`: tools with different argument types share one list.
export type ToolInput = ToolRef | LocalTool<any>;

interface ToolDefinitionBase {
  /** Unique within a run; `^[a-zA-Z0-9_-]{1,64}$`. */
  name: string;
  /** Shown to the model: say when to use the tool. */
  description?: string;
  /** Each call waits for a human's decision first (`approval_required`; see `onApproval`). @default false */
  requiresApproval?: boolean;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A tool validated by a zod 4 (or zod-like) schema; its JSON Schema comes from `toJSONSchema()` or `jsonSchema`. */
export function defineTool<S extends SchemaLike<unknown>>(
  definition: ToolDefinitionBase & {
    parameters: S;
    /** The wire schema, for validators without `toJSONSchema()` (zod 3 with zod-to-json-schema, valibot, ...). */
    jsonSchema?: JsonSchema;
    execute: (args: InferArgs<S>, context: ToolContext) => unknown;
  },
): LocalTool<InferArgs<S>>;
/** A tool described by a plain JSON Schema; arguments reach `execute` unvalidated. */
export function defineTool<Args = Record<string, unknown>>(
  definition: ToolDefinitionBase & { parameters?: JsonSchema; execute: (args: Args, context: ToolContext) => unknown },
): LocalTool<Args>;
export function defineTool(definition: ToolDefinitionBase & { parameters?: unknown; jsonSchema?: JsonSchema; execute: LocalTool["execute"] }): LocalTool {
  const { name, description, parameters, jsonSchema, execute, requiresApproval } = definition;
  if (typeof name !== "string" || !TOOL_NAME.test(name)) {
    throw new TypeError(`defineTool: invalid name ${JSON.stringify(name)}: tool names match ^[a-zA-Z0-9_-]{1,64}$`);
  }
  if (typeof execute !== "function") throw new TypeError(`defineTool(${name}): execute must be a function`);
  const schema = isSchemaLike(parameters) ? (parameters as SchemaLike<Record<string, unknown>>) : undefined;
  const wire = jsonSchema ?? (schema ? schemaToJson(name, schema) : ((parameters as JsonSchema | undefined) ?? { type: "object", properties: {} }));
  if (wire.type !== undefined && wire.type !== "object") {
    throw new TypeError(`defineTool(${name}): parameters must describe an object (got type ${JSON.stringify(wire.type)})`);
  }
  return { kind: "local", name, description, parameters: wire, schema, execute, ...(requiresApproval ? { requiresApproval } : {}) };
}

function isSchemaLike(value: unknown): value is SchemaLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as SchemaLike<unknown>).safeParse === "function";
}

function schemaToJson(name: string, schema: SchemaLike<unknown>): JsonSchema {
  if (typeof schema.toJSONSchema !== "function") {
    throw new TypeError(`defineTool(${name}): this schema has no toJSONSchema(); pass its JSON Schema as jsonSchema`);
  }
  // `$schema` names the draft; providers' tool schemas do not want it.
  const { $schema: _draft, ...rest } = schema.toJSONSchema() as JsonSchema;
  return rest;
}

export function isLocalTool(tool: ToolInput): tool is LocalTool {
  return typeof (tool as Partial<LocalTool>).execute === "function";
}

/** The tools as the server receives them: handlers and validators stay here. */
export function toWireTools(tools: ToolInput[] | undefined): ToolRef[] | undefined {
  return tools?.map((tool) =>
    isLocalTool(tool)
      ? {
          kind: "local",
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          parameters: tool.parameters,
          ...(tool.requiresApproval ? { requiresApproval: true } : {}),
        }
      : tool,
  );
}

export function toolHandlers(tools: ToolInput[] | undefined): Map<string, LocalTool> {
  return new Map((tools ?? []).filter(isLocalTool).map((tool) => [tool.name, tool]));
}

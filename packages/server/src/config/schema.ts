import { AgentDefinition, AGENT_ID_PATTERN, ModelPricing, RetentionDays } from "@agentd/protocol";
import { z } from "zod";
import { isCodeToolDefinition, type CodeToolDefinition } from "../tools/code.js";

const ProviderModel = z.strictObject({
  id: z.string().min(1),
  label: z.string().optional(),
  contextWindowTokens: z.number().int().positive().optional(),
  pricing: ModelPricing.optional(),
  api: z.enum(["chat-completions", "responses"]).optional(),
});

const milliseconds = z
  .number()
  .int()
  .min(1)
  .max(24 * 3600 * 1000);
const ProviderTimeouts = z.strictObject({
  connectMs: milliseconds.optional(),
  firstByteMs: milliseconds.optional(),
  idleMs: milliseconds.optional(),
  totalMs: milliseconds.optional(),
});
const CircuitBreaker = z.strictObject({
  failureThreshold: z.number().int().min(1).max(10_000).optional(),
  cooldownMs: milliseconds.optional(),
});

const Provider = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "provider names are lowercase letters, digits, '-' and '_'"),
  type: z.enum(["openai", "openai-compatible", "anthropic", "mock"]),
  apiKey: z.string().optional(),
  apiKeyEnv: z.string().optional(),
  baseUrl: z.url().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  models: z.array(ProviderModel).optional(),
  defaultModel: z.string().optional(),
  timeouts: ProviderTimeouts.optional(),
  circuitBreaker: CircuitBreaker.optional(),
  client: z.enum(["agentd", "ai-sdk"]).optional(),
  structuredOutput: z.boolean().optional(),
});

/**
 * One object with every field, checked by hand, rather than a union of the
 * stdio and HTTP shapes: a failed union reports only "Invalid input", while
 * this names the field that is wrong.
 */
const McpServer = z
  .strictObject({
    command: z.string().min(1, "command must not be empty").optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/, error: "url must be an http:// or https:// URL" }).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    timeoutMs: z.number().int().positive().max(3_600_000).optional(),
  })
  .superRefine((server, context) => {
    if ((server.command === undefined) === (server.url === undefined)) {
      const which = server.command === undefined ? "needs" : "takes one of, not both:";
      context.addIssue({
        code: "custom",
        message: `an MCP server ${which} "command" (a stdio server agentd starts) or "url" (a streamable HTTP server)`,
      });
      return;
    }
    const misplaced = server.url !== undefined ? (["args", "env", "cwd"] as const) : (["headers"] as const);
    for (const key of misplaced) {
      if (server[key] === undefined) continue;
      const applies = key === "headers" ? 'servers with a "url"' : 'stdio servers (with a "command")';
      context.addIssue({ code: "custom", path: [key], message: `"${key}" applies only to ${applies}` });
    }
  });

/** Retention (issue #11): `days` null keeps ended runs forever, as in `PUT /settings`. */
const RetentionPeriod = z.strictObject({ days: RetentionDays.nullable() });
const Retention = z.strictObject({
  days: RetentionDays.nullable().optional(),
  workspaces: z.record(z.string().min(1), RetentionPeriod).optional(),
  sweepIntervalMs: z
    .number()
    .int()
    .min(100)
    .max(24 * 3600 * 1000)
    .optional(),
  batchRuns: z.number().int().min(1).max(10_000).optional(),
  batchEvents: z.number().int().min(1).max(1_000_000).optional(),
});

/** Validates a config file; every problem names its field. */
export const AgentdConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  providers: z.array(Provider).optional(),
  defaultModelId: z.string().optional(),
  agents: z.record(z.string().regex(AGENT_ID_PATTERN, "agent ids match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"), AgentDefinition).optional(),
  localToolTimeoutMs: z.number().int().positive().optional(),
  serverToolTimeoutMs: z.number().int().positive().optional(),
  maxRunAttempts: z.number().int().positive().optional(),
  limits: z
    .strictObject({
      maxActiveRunsPerWorkspace: z.number().int().positive().optional(),
      maxPausedRunsPerWorkspace: z.number().int().positive().optional(),
      maxQueuedRuns: z.number().int().positive().optional(),
      maxJsonDepth: z.number().int().min(2).max(10_000).optional(),
      maxBodyBytes: z.number().int().min(1024).optional(),
      keyRequestsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
      keyConcurrentRuns: z.number().int().min(1).max(1_000_000).optional(),
      keyTokensPerDay: z.number().int().min(1).max(1_000_000_000_000).optional(),
      keyOpenStreams: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
  retention: Retention.optional(),
  httpTools: z.strictObject({ allow: z.array(z.string()).optional(), requestAllow: z.array(z.string()).optional() }).optional(),
  tools: z
    .array(z.custom<CodeToolDefinition>(isCodeToolDefinition, "each tool needs a name and an execute function (use defineTool)"))
    .optional(),
  mcpServers: z
    .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/), McpServer, {
      // zod reports a bad record key as "Invalid key in record"; say what a name may be.
      error: (issue) => (issue.code === "invalid_key" ? "MCP server names match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" : undefined),
    })
    .optional(),
});

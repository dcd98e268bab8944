import type { AgentDefinition, ModelPricing } from "@agentd/protocol";
import type { CodeToolDefinition } from "../tools/code.js";

export type ProviderType = "openai" | "openai-compatible" | "anthropic" | "mock";

export interface ProviderModelConfig {
  /** The vendor's model id, e.g. `gpt-4o-mini`. */
  id: string;
  label?: string;
  contextWindowTokens?: number;
  pricing?: ModelPricing;
  /** `openai` providers: the API this model is called through. @default "chat-completions" (models only on the Responses API: "responses") */
  api?: "chat-completions" | "responses";
}

/** One model provider. Several of one type may exist under different names. */
export interface ProviderConfig {
  /** Unique name, used in model ids: `provider:<name>:<model>`. */
  name: string;
  type: ProviderType;
  /** API key; prefer `apiKeyEnv` so secrets stay out of config files. */
  apiKey?: string;
  /** Name of the environment variable holding the API key. */
  apiKeyEnv?: string;
  /** Base URL of the API, e.g. `http://127.0.0.1:8000/v1` for vLLM. */
  baseUrl?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Models offered; when omitted, the provider's built-in list (if any). */
  models?: ProviderModelConfig[];
  /** Model used for `provider:<name>`; defaults to the first of `models`. */
  defaultModel?: string;
  /** Limits of one call, in milliseconds (docs/configuration.md "Timeouts"). */
  timeouts?: { connectMs?: number; firstByteMs?: number; idleMs?: number; totalMs?: number };
  /**
   * After `failureThreshold` consecutive failed calls (5xx, 529, connection
   * errors, timeouts), calls fail at once for `cooldownMs`, then one trial
   * call decides. @default { failureThreshold: 5, cooldownMs: 30_000 }
   */
  circuitBreaker?: { failureThreshold?: number; cooldownMs?: number };
  /** `openai` / `anthropic`: agentd's own HTTP client, or the AI SDK's (about ten times the CPU per call). @default "agentd" */
  client?: "agentd" | "ai-sdk";
  /**
   * Send an agent's outputSchema as the provider's structured output
   * (`response_format: json_schema`). @default true for `openai`, false for
   * `openai-compatible` (not every server has it); Anthropic always forces a tool instead.
   */
  structuredOutput?: boolean;
}

/** What the config file (`agentd.config.json` / `.ts`) may hold. */
export interface AgentdConfig {
  providers?: ProviderConfig[];
  /** Model used when a run names none. Any accepted model id form. */
  defaultModelId?: string;
  /** Named agents, addressable by `agentId`. */
  agents?: Record<string, AgentDefinition>;
  /** Tools written in TypeScript (`defineTool`), usable as `{ "kind": "code", "name": ... }`. */
  tools?: CodeToolDefinition[];
  httpTools?: {
    /** Private destinations HTTP tools may reach anyway: `host:port` or CIDR entries (plus AGENTD_HTTP_ALLOW). */
    allow?: string[];
    /**
     * The only hosts HTTP tools defined in a request (not in this config) may
     * reach: `host`, `host:port`, `*.domain`, `*` (plus AGENTD_HTTP_REQUEST_ALLOW).
     * @default [] (request-defined HTTP tools are refused with 403)
     */
    requestAllow?: string[];
  };
  /** How long a server tool call may take, in milliseconds. @default 300_000 */
  serverToolTimeoutMs?: number;
  /** How long a run waits for a local tool result, in milliseconds. @default 600_000 */
  localToolTimeoutMs?: number;
  /**
   * How many executions of one run may end with their worker dying mid-run
   * (crash, kill, lost lease) before the run is ended with
   * `error_max_attempts`; a graceful shutdown's hand-over does not count.
   * Also AGENTD_MAX_RUN_ATTEMPTS. @default 5
   */
  maxRunAttempts?: number;
  /** Caps that keep one workspace, or one burst, from taking the process (docs/security.md). */
  limits?: LimitsConfig;
  /** How long ended runs are kept, and the sweep that deletes them (docs/configuration.md "Retention"). @default keep forever */
  retention?: RetentionConfig;
  /** MCP servers whose tools agents may use (`{ kind: "mcp", server, tool }`), by name. */
  mcpServers?: Record<string, McpServerConfig>;
}

/** An MCP server agentd starts itself and talks to over stdin/stdout. */
export interface McpStdioServerConfig {
  command: string;
  args?: string[];
  /** Added to a minimal environment (HOME, PATH, ...): agentd's own secrets are not passed on. */
  env?: Record<string, string>;
  /** Working directory of the process; relative paths resolve against agentd's. */
  cwd?: string;
  /** Per-call timeout in milliseconds; starting the server may take up to this or 60 s, whichever is longer. @default 60_000 */
  timeoutMs?: number;
}

/** An MCP server reached over streamable HTTP. */
export interface McpHttpServerConfig {
  url: string;
  /** Sent with every request, e.g. `Authorization`. */
  headers?: Record<string, string>;
  /** Per-call timeout in milliseconds; connecting may take up to this or 60 s, whichever is longer. @default 60_000 */
  timeoutMs?: number;
}

/** `command` makes a stdio server, `url` a streamable HTTP one. */
export type McpServerConfig = McpStdioServerConfig | McpHttpServerConfig;

/** Bounds on work and input; every one answers a clear 4xx or a 503 with Retry-After, never an unbounded queue. */
export interface LimitsConfig {
  /** Queued + running runs of one workspace; past it, new runs get 429 rate_limited. @default 1000 */
  maxActiveRunsPerWorkspace?: number;
  /** Paused runs (waiting for a tool result or an approval) of one workspace; past it, new runs get 429. @default 10000 */
  maxPausedRunsPerWorkspace?: number;
  /**
   * Runs queued or running in this process (in a cluster: those it holds,
   * plus the shared queue's depth), paused ones not counted; past it, new
   * runs get 503 with Retry-After. @default 10000
   */
  maxQueuedRuns?: number;
  /** Nesting depth of a JSON body (arrays and objects, the body counting as 1). @default 64 */
  maxJsonDepth?: number;
  /** Largest request body, in bytes. @default 4194304 */
  maxBodyBytes?: number;
  /** Requests per minute of a key without its own `limits.requestsPerMinute` (a token bucket, shared by a cluster's workers). @default none */
  keyRequestsPerMinute?: number;
  /** Runs queued or running at once of a key without its own `limits.concurrentRuns` (paused runs not counted; counted in the store). @default none */
  keyConcurrentRuns?: number;
  /** Model tokens (input + output) a day (UTC) of the runs of a key without its own `limits.tokensPerDay`. @default none */
  keyTokensPerDay?: number;
  /** Event streams open at once of a key without its own `limits.openStreams` (shared by a cluster's workers through Redis). @default none */
  keyOpenStreams?: number;
}

/**
 * Retention (issue #11): ended runs, with their events and traces, deleted
 * some days after they ended. A workspace's own setting (`PUT /settings`)
 * overrides both `workspaces` and `days`.
 */
export interface RetentionConfig {
  /** Days an ended run is kept, for every workspace without its own; null: forever. Whole days, 1 to 3650. @default null */
  days?: number | null;
  /** Per workspace slug, overriding `days`: `{ "acme": { "days": 30 }, "audit": { "days": null } }`. */
  workspaces?: Record<string, { days: number | null }>;
  /** How often the sweep runs, in milliseconds (on one worker of a cluster at a time). @default 300_000 */
  sweepIntervalMs?: number;
  /** Most runs one delete removes (one transaction). @default 500 */
  batchRuns?: number;
  /**
   * Most events one delete removes with its runs (one run's, however many it
   * has, at least). On SQLite a batch holds the process's one thread while
   * it runs. @default 2_000 on SQLite, 50_000 on PostgreSQL
   */
  batchEvents?: number;
}

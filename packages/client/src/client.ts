import { AgentdError } from "./errors.js";
import { readEnv } from "./internal/env.js";
import { Transport } from "./internal/request.js";
import { Agents } from "./resources/agents.js";
import { AgentRegistry } from "./resources/registry.js";
import { Models } from "./resources/models.js";
import { Runs } from "./resources/runs.js";
import { Sessions } from "./resources/sessions.js";
import { Keys } from "./resources/keys.js";
import { Settings } from "./resources/settings.js";
import { Traces } from "./resources/traces.js";
import { UsageReports } from "./resources/usage.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:7700";
export const DEFAULT_WORKSPACE = "default";

export interface AgentdOptions {
  /** Workspace API key (`agd_...`). @default process.env.AGENTD_API_KEY */
  apiKey?: string;
  /** Server URL. @default process.env.AGENTD_URL, else "http://127.0.0.1:7700" */
  baseUrl?: string;
  /** Workspace slug. @default process.env.AGENTD_WORKSPACE, else "default" */
  workspace?: string;
  /** A fetch implementation (tests, proxies, custom agents). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per-attempt request timeout in milliseconds. @default 60_000 */
  timeoutMs?: number;
  /** Retries of a failed request (408, 429, >= 500, connection errors). @default 2 */
  maxRetries?: number;
  /** Headers sent with every request. @default {} */
  defaultHeaders?: Record<string, string>;
}

/**
 * The agentd client. Environment variables are read only where a `process`
 * exists (Node, Bun, Deno); in a browser pass every option explicitly.
 */
export class Agentd {
  readonly baseUrl: string;
  readonly workspace: string;
  readonly models: Models;
  readonly runs: Runs;
  readonly agents: Agents;
  /** Agents, revisions and tags stored in the workspace (docs/agents.md). */
  readonly registry: AgentRegistry;
  readonly sessions: Sessions;
  readonly traces: Traces;
  /** Usage totals of the workspace's runs, by agent, model, day or key. */
  readonly usage: UsageReports;
  /** The workspace's settings: retention (docs/api.md "Settings"). */
  readonly settings: Settings;
  /** The workspace's API keys (keys:admin; docs/security.md "Keys"). */
  readonly keys: Keys;

  constructor(options: AgentdOptions = {}) {
    const apiKey = options.apiKey ?? readEnv("AGENTD_API_KEY");
    if (!apiKey) throw new AgentdError("missing API key: pass { apiKey } or set AGENTD_API_KEY", { code: "missing_api_key" });
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (typeof fetchImpl !== "function") throw new AgentdError("no global fetch in this runtime: pass { fetch }");
    this.baseUrl = (options.baseUrl ?? readEnv("AGENTD_URL") ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.workspace = options.workspace ?? readEnv("AGENTD_WORKSPACE") ?? DEFAULT_WORKSPACE;
    const transport = new Transport({
      apiKey,
      baseUrl: this.baseUrl,
      workspace: this.workspace,
      fetch: fetchImpl,
      timeoutMs: options.timeoutMs ?? 60_000,
      maxRetries: options.maxRetries ?? 2,
      defaultHeaders: options.defaultHeaders ?? {},
    });
    this.models = new Models(transport);
    this.runs = new Runs(transport);
    this.agents = new Agents(transport);
    this.registry = new AgentRegistry(transport);
    this.sessions = new Sessions(transport);
    this.traces = new Traces(transport);
    this.usage = new UsageReports(transport);
    this.settings = new Settings(transport);
    this.keys = new Keys(transport);
  }
}

import type { AgentService } from "../agents/service.js";
import type { BodyLimits } from "../http/body.js";
import type { Middleware } from "../http/context.js";
import type { KeyService } from "../keys/service.js";
import type { StreamOptions } from "../http/sse/index.js";
import type { StreamLimiter } from "../limits/stream-limiter.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ModelRegistry } from "../models/types.js";
import type { SettingsService } from "../retention/service.js";
import type { RunService } from "../runs/service.js";
import type { SessionService } from "../sessions/service.js";
import type { TraceService } from "../traces/service.js";
import type { UsageService } from "../usage/service.js";

/** What the route modules need; built once in server.ts. */
export interface AppDeps {
  runs: RunService;
  agents: AgentService;
  sessions: SessionService;
  traces: TraceService;
  keys: KeyService;
  usage: UsageService;
  settings: SettingsService;
  models: ModelRegistry;
  stream: StreamOptions;
  /** A key's open streams (limits.openStreams, else `keyDefault`: the config's limits.keyOpenStreams). */
  streamLimits: { limiter: StreamLimiter; keyDefault: number | undefined };
  limits: BodyLimits;
  /** Replays the first answer to a retried POST with the same Idempotency-Key. */
  idempotent: Middleware;
  metrics: Metrics;
  /** Whether the store answers (GET /readyz). */
  storeReachable(): Promise<void>;
}

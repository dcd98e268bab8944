import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { headers } from "@agentd/protocol";
import { AgentdError } from "./errors.js";
import { MemoryEventBus } from "./bus/memory.js";
import type { EventBus } from "./bus/types.js";
import type { AgentdConfig } from "./config/types.js";
import { RunEngine } from "./engine/engine.js";
import { EventLog } from "./events/log.js";
import { endStreams, endWithErrorFrame, isEventStream, type OpenStream } from "./http/sse/index.js";
import { auth } from "./http/auth.js";
import { keyHasher } from "./auth/key-hash.js";
import { KeyService } from "./keys/service.js";
import { rateLimit } from "./limits/middleware.js";
import { MemoryRateLimiter, type RateLimiter } from "./limits/rate-limiter.js";
import { KeyRunLimits } from "./limits/run-limits.js";
import { MemoryStreamLimiter, type StreamLimiter } from "./limits/stream-limiter.js";
import type { Context, Reply } from "./http/context.js";
import { answerClientErrors } from "./http/client-error.js";
import { errorResponse } from "./http/error-handler.js";
import { idempotency } from "./http/idempotency.js";
import { registerRoutes } from "./http/register.js";
import { logRequest } from "./http/request-log.js";
import { Router } from "./http/router.js";
import { newId } from "./ids.js";
import { createLogger, parseLogLevel, type Logger } from "./logger.js";
import { Metrics } from "./metrics/metrics.js";
import { createModelRegistry } from "./models/registry.js";
import type { ModelRegistry } from "./models/types.js";
import { MemoryRunQueue } from "./queue/memory.js";
import type { RunQueue } from "./queue/types.js";
import { hostname } from "node:os";
import { randomBase62 } from "./ids.js";
import { agentHandlers } from "./routes/agents.js";
import { keyHandlers } from "./routes/keys.js";
import { runHandlers } from "./routes/runs.js";
import { settingsHandlers } from "./routes/settings.js";
import { traceHandlers } from "./routes/traces.js";
import { otelSettings, startTraceExport } from "./traces/otel.js";
import { TraceService } from "./traces/service.js";
import { usageHandlers } from "./routes/usage.js";
import { UsageService } from "./usage/service.js";
import { sessionHandlers } from "./routes/sessions.js";
import { systemHandlers } from "./routes/system.js";
import { AgentService } from "./agents/service.js";
import { SettingsService } from "./retention/service.js";
import { RetentionSweeper } from "./retention/sweeper.js";
import { RunService } from "./runs/service.js";
import { Admission, DEFAULT_ADMISSION_LIMITS } from "./runs/admission.js";
import { SessionService } from "./sessions/service.js";
import { createServerTools } from "./tools/resolvers.js";
import { SessionHandoff } from "./sessions/handoff.js";
import { openStore } from "./store/open.js";
import type { Store } from "./store/types.js";

export interface CreateServerOptions {
  /** Directory of the embedded store. @default "./.agentd" (see resolveDataDir); `DATABASE_URL` in `env` selects PostgreSQL instead */
  dataDir?: string;
  /** Use this store instead of opening one (tests, embedders). */
  store?: Store;
  config?: AgentdConfig;
  /** Use these models instead of the ones the config and environment define (tests, embedders). */
  models?: ModelRegistry;
  /** Environment for provider keys and settings. @default process.env */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Largest accepted request body, in bytes. @default 4_194_304 */
  maxBodyBytes?: number;
  /** Idle time on a stream before a heartbeat comment, in milliseconds. @default 15_000 */
  heartbeatMs?: number;
  /** Unsent bytes a slow stream reader may pile up before it is disconnected. @default 8_388_608 */
  maxStreamBufferBytes?: number;
  /** The clock of retention (epoch ms): runs are aged, and settings stamped, by it (tests). @default Date.now */
  retentionClock?: () => number;
}

export interface AgentdServer {
  readonly store: Store;
  readonly models: ModelRegistry;
  /** The node:http request handler, for embedding in another server. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Ids of the named agents from the config. */
  agents(): string[];
  /** Runs still unfinished from before this start that were picked up again. */
  readonly recovered: number;
  /**
   * Starts serving HTTP on `port` (0: any free port) of `host` (default
   * 127.0.0.1). `backlog`: connections the kernel may hold completed but not
   * yet accepted (a burst of clients connecting at once); default 4096.
   */
  listen(port: number, host?: string, options?: { backlog?: number }): Promise<{ url: string; port: number }>;
  /**
   * Shuts down. With `graceMs`, gracefully (SIGTERM in `agentd serve`): new
   * requests get 503 and no new run starts here, model steps and server
   * tools in flight may finish for up to `graceMs`, then the rest is
   * checkpointed and handed back, and open streams end so their clients
   * resume from their cursor (on another worker, in a cluster). Without it,
   * at once: steps in flight are abandoned and resume from their last checkpoint.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Builds agentd: store, bus, queue, engine, services and the HTTP API. */
export async function createServer(options: CreateServerOptions = {}): Promise<AgentdServer> {
  const env = options.env ?? process.env;
  const config = options.config ?? {};
  const logger = options.logger ?? createLogger(parseLogLevel(env.AGENTD_LOG_LEVEL));
  const store =
    options.store ??
    (await openStore({
      dataDir: options.dataDir ?? ".agentd",
      ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
      ...(env.AGENTD_DB_SCHEMA ? { schema: env.AGENTD_DB_SCHEMA } : {}),
    }));
  // With REDIS_URL this process is one worker of a cluster sharing the store
  // (docs/scale-out.md): runs execute under leases; otherwise it executes
  // every run of the store alone, and makes sure no other process does.
  const cluster = env.REDIS_URL ? clusterSettings(env) : undefined;
  let releaseWorker: () => Promise<void> = async () => undefined;
  if (!cluster) {
    try {
      releaseWorker = await store.lockWorker();
    } catch (error) {
      if (!options.store) await store.close();
      throw error;
    }
  }
  // Redis modules load only for a cluster: a single process never pays for them.
  const bus: EventBus = cluster
    ? new (await import("./bus/redis.js")).RedisEventBus({ url: cluster.redisUrl, prefix: cluster.prefix, name: cluster.workerId, logger })
    : new MemoryEventBus();
  // A key's requests per minute: one bucket per key for the whole cluster (Redis), or this process's.
  const rateLimiter: RateLimiter = cluster
    ? await (async () => {
        const { RedisRateLimiter } = await import("./limits/rate-limiter.js");
        const { connectRedis } = await import("./bus/redis-connection.js");
        const name = `agentd:${cluster.workerId}:limits`;
        return new RedisRateLimiter(() => connectRedis(cluster.redisUrl, name, logger, { maxRetriesPerRequest: 1 }), cluster.prefix);
      })()
    : new MemoryRateLimiter();
  // A key's open streams: one count per key for the whole cluster (Redis, with slots a dead worker stops refreshing), or this process's.
  const streamLimiter: StreamLimiter = cluster
    ? await (async () => {
        const { RedisStreamLimiter } = await import("./limits/stream-limiter.js");
        const { connectRedis } = await import("./bus/redis-connection.js");
        const name = `agentd:${cluster.workerId}:stream-limits`;
        return new RedisStreamLimiter(
          () => connectRedis(cluster.redisUrl, name, logger, { maxRetriesPerRequest: 1 }),
          cluster.prefix,
          cluster.workerId,
        );
      })()
    : new MemoryStreamLimiter();
  const queue: RunQueue = cluster
    ? new (await import("./queue/redis.js")).RedisRunQueue({
        url: cluster.redisUrl,
        prefix: cluster.prefix,
        workerId: cluster.workerId,
        logger,
      })
    : new MemoryRunQueue();
  // AGENTD_KEY_PEPPER, else the store's own (the data directory's file, or PostgreSQL's secrets table).
  const hasher = await keyHasher(store, env).catch(async (error: unknown) => {
    await releaseWorker();
    if (!options.store) await store.close();
    throw error;
  });
  const models = options.models ?? createModelRegistry(config, env);
  const metrics = new Metrics(() => models.circuits?.() ?? []);
  const log = new EventLog(store, bus, (error) => logger.error({ err: error }, "event commit failed"));
  log.onCommitTimed = (durationMs) => metrics.committed(durationMs);
  const tools = await createServerTools(config, env, logger);
  // OpenTelemetry export of run traces: its packages load only when an OTLP endpoint is set (traces/otel.ts).
  const otel = otelSettings(env);
  const traceExport = otel
    ? await startTraceExport(otel, { read: (workspaceId, runId) => traces.ofRun(workspaceId, runId), committed: () => log.flush(), logger })
    : undefined;
  const handoff = new SessionHandoff(store, (record) => {
    if (!engine.clustered) log.tails.track(record.id, record.workspaceId);
    log.patchRun(record.id, { checkpoint: record.checkpoint });
    engine.submit(record);
  });
  const engine: RunEngine = new RunEngine({
    ...(cluster ? { cluster: { workerId: cluster.workerId, leaseMs: cluster.leaseMs, bus } } : {}),
    sessionReleased: (workspaceId, sessionId) => handoff.next(workspaceId, sessionId),
    store,
    log,
    queue,
    models,
    observer: metrics,
    ...(traceExport ? { traceExport } : {}),
    tools,
    logger,
    serverToolTimeoutMs: config.serverToolTimeoutMs ?? 300_000,
    localToolTimeoutMs:
      numberFromEnv("AGENTD_LOCAL_TOOL_TIMEOUT_MS", env.AGENTD_LOCAL_TOOL_TIMEOUT_MS) ?? config.localToolTimeoutMs ?? 600_000,
    maxRunAttempts: numberFromEnv("AGENTD_MAX_RUN_ATTEMPTS", env.AGENTD_MAX_RUN_ATTEMPTS) ?? config.maxRunAttempts ?? 5,
  });
  const limits = config.limits ?? {};
  const admission = new Admission(store, () => engine.activeRuns + (engine.clustered ? queue.depth : 0), {
    maxActiveRunsPerWorkspace: limits.maxActiveRunsPerWorkspace ?? DEFAULT_ADMISSION_LIMITS.maxActiveRunsPerWorkspace,
    maxPausedRunsPerWorkspace: limits.maxPausedRunsPerWorkspace ?? DEFAULT_ADMISSION_LIMITS.maxPausedRunsPerWorkspace,
    maxQueuedRuns: limits.maxQueuedRuns ?? DEFAULT_ADMISSION_LIMITS.maxQueuedRuns,
  });
  const keyRunLimits = new KeyRunLimits(store, { concurrentRuns: limits.keyConcurrentRuns, tokensPerDay: limits.keyTokensPerDay });
  const runs = new RunService({ store, log, engine, models, config, tools, handoff, admission, keyLimits: keyRunLimits });
  const sessions = new SessionService(store, runs, engine, log, handoff);
  const traces = new TraceService(store, runs, log);
  const keys = new KeyService(store, hasher);
  const usage = new UsageService(store);
  const settings = new SettingsService(store, config.retention, options.retentionClock);
  // On every process; the store's task lock lets one of a cluster sweep at a time.
  const sweeper = new RetentionSweeper({
    store,
    config: config.retention,
    logger,
    observer: metrics,
    forget: (runIds) => log.runsDeleted(runIds),
    ...(options.retentionClock ? { now: options.retentionClock } : {}),
  });
  // A definition is checked as an inline run's spec would be: its tools are a request's (issue #8).
  const agents = new AgentService({
    store,
    configAgents: config.agents ?? {},
    validateDefinition: (definition) => void runs.resolveSpec({ ...definition }),
  });

  const maxBodyBytes = options.maxBodyBytes ?? limits.maxBodyBytes ?? 4 * 1024 * 1024;
  const router = new Router();
  const openStreams = new Set<OpenStream>();
  metrics.watch({ activeRuns: () => engine.activeRuns, openStreams: () => openStreams.size, queueDepth: () => queue.depth });
  const deps = {
    runs,
    agents,
    sessions,
    traces,
    keys,
    usage,
    settings,
    models,
    stream: {
      reader: log,
      bus,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      maxBufferedBytes: options.maxStreamBufferBytes ?? 8 * 1024 * 1024,
      pageSize: 500,
      open: openStreams,
    },
    streamLimits: { limiter: streamLimiter, keyDefault: limits.keyOpenStreams },
    limits: { maxBodyBytes, maxJsonDepth: limits.maxJsonDepth ?? 64 },
    idempotent: idempotency(store, { maxBodyBytes }),
    metrics,
    // The cause goes to the log, not to /readyz, which answers anyone: a driver's message may name hosts and users.
    storeReachable: () =>
      store.getWorkspaceBySlug(" readyz").then(
        () => undefined,
        (error: unknown) => {
          logger.warn({ err: error }, "readiness check: the store did not answer");
          throw new Error("the store did not answer");
        },
      ),
  };
  // Every route of the protocol's table; one without a handler here answers 501.
  const handlers = {
    ...systemHandlers(deps),
    ...runHandlers(deps),
    ...sessionHandlers(deps),
    ...traceHandlers(deps),
    ...usageHandlers(deps),
    ...agentHandlers(deps),
    ...keyHandlers(deps),
    ...settingsHandlers(deps),
  };
  registerRoutes(router, handlers, {
    authenticate: auth(store, hasher),
    idempotent: deps.idempotent,
    limit: rateLimit(rateLimiter, limits.keyRequestsPerMinute),
  });

  const recovered = await engine.recover();
  if (recovered > 0) logger.info({ runs: recovered }, "picked up unfinished runs");
  sweeper.start();

  let draining = false;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(router, logger, req, res, draining);
  };
  let http: Server | undefined;
  let closing: Promise<void> | undefined;
  const shutdown = async (graceMs: number): Promise<void> => {
    draining = true;
    // Stops between two batches; what is left is the next start's.
    const swept = sweeper.close();
    // No new connections; the open ones get 503 for new requests, and their streams go on for now.
    const closed = http ? new Promise<void>((resolve) => http!.close(() => resolve())) : Promise.resolve();
    http?.closeIdleConnections();
    if (graceMs > 0) await engine.drain(graceMs);
    await engine.close();
    // Every run that ended here is queued for export by now: the last spans go out while the streams end (bounded: 5 s).
    const exported = traceExport?.close();
    // Every event is committed: the streams end without a terminal event and their clients resume from their cursor.
    await endStreams(openStreams, 1_000);
    http?.closeAllConnections();
    await closed;
    await swept;
    await tools.close();
    await queue.close();
    await bus.close();
    await rateLimiter.close();
    await streamLimiter.close();
    await exported;
    await releaseWorker();
    await store.close();
  };

  return {
    store,
    models,
    handler,
    recovered,
    agents: () => Object.keys(config.agents ?? {}),
    async listen(port, host = "127.0.0.1", listenOptions = {}) {
      // Node's default backlog is 511: a burst of more clients than that
      // connecting at once (a fleet reconnecting after a deploy) overflows the
      // accept queue, and the kernel drops their SYNs, which they resend only
      // after 1 s, 3 s, 7 s. 4096 absorbs such bursts. Linux caps it at
      // net.core.somaxconn (4096 since kernel 5.4; older kernels 128, raise it
      // with sysctl), and SYNs still in the handshake at net.ipv4.tcp_max_syn_backlog.
      const backlog = listenOptions.backlog ?? 4096;
      if (!Number.isInteger(backlog) || backlog < 1) throw new TypeError(`backlog must be a positive integer (got ${backlog})`);
      http = createHttpServer({ keepAliveTimeout: 65_000 }, handler);
      answerClientErrors(http, logger);
      await new Promise<void>((resolve, reject) => {
        http!.once("error", reject);
        http!.listen({ port, host, backlog }, () => resolve());
      });
      const address = http.address() as AddressInfo;
      const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      return { url: `http://${shownHost}:${address.port}`, port: address.port };
    },
    close(options = {}) {
      closing ??= shutdown(options.graceMs ?? 0);
      return closing;
    },
  };
}

/** An incoming X-Request-Id is kept (echoed and logged) when it is this: bounded, and safe in a header and a log line. */
const SANE_REQUEST_ID = /^[\w.-]{1,128}$/;

async function handle(router: Router, logger: Logger, req: IncomingMessage, res: ServerResponse, draining: boolean): Promise<void> {
  const started = performance.now();
  const incomingId = req.headers[headers.requestId];
  const requestId = typeof incomingId === "string" && SANE_REQUEST_ID.test(incomingId) ? incomingId : newId("req");
  // A request target the URL parser refuses (`GET http://[::1`) must get its 400, not escape as a rejection.
  const url = URL.canParse(req.url ?? "/", "http://agentd") ? new URL(req.url ?? "/", "http://agentd") : undefined;
  const ctx: Context = { req, res, url: url ?? new URL("/", "http://agentd"), params: {}, requestId };
  const reply = await respond(router, logger, ctx, url === undefined, draining);
  logRequest(logger, ctx, reply, performance.now() - started);
}

/** Answers one request; returns the JSON reply it sent, if it sent one. */
async function respond(router: Router, logger: Logger, ctx: Context, badTarget: boolean, draining: boolean): Promise<Reply | void> {
  const { req, res, requestId } = ctx;
  let reply: Reply | void;
  try {
    if (badTarget) throw new AgentdError("invalid_request", "the request target is not a valid URL");
    if (draining) {
      // Shutting down: the connection closes, so the client's retry goes elsewhere (another worker).
      res.setHeader("connection", "close");
      res.setHeader("retry-after", "1");
      throw new AgentdError("unavailable", "agentd is shutting down; retry the request", { hint: "The SDK retries this by itself." });
    }
    reply = await router.dispatch(ctx, req.method ?? "GET");
  } catch (error) {
    if (res.headersSent) {
      // An event stream already started ends with an `error` frame carrying the body a JSON reply would have had.
      if (isEventStream(res)) return endWithErrorFrame(res, errorResponse(error, ctx, logger).body);
      // Any other response that already started: all that is left is to end it.
      logger.error({ err: error, requestId }, "error after the response started");
      res.destroy();
      return;
    }
    reply = errorResponse(error, ctx, logger);
  }
  if (!reply || res.headersSent) return;
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    "x-request-id": requestId,
  });
  res.end(req.method === "HEAD" ? undefined : payload);
  return reply;
}

function clusterSettings(env: Record<string, string | undefined>) {
  return {
    redisUrl: env.REDIS_URL!,
    prefix: env.AGENTD_REDIS_PREFIX ?? "agentd:",
    // Stable across restarts when set, so a restarted worker requeues what it held.
    workerId: env.AGENTD_WORKER_ID ?? `${hostname()}:${process.pid}:${randomBase62(6)}`,
    leaseMs: numberFromEnv("AGENTD_LEASE_MS", env.AGENTD_LEASE_MS, 100) ?? 10_000,
  };
}

function numberFromEnv(name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${name} must be an integer >= ${min} (got '${value}')`);
  return parsed;
}

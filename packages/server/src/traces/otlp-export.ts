import { readFileSync } from "node:fs";
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanContext } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ATTR_ERROR_TYPE, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { GetTraceResponse } from "@agentd/protocol";
import type { OtelSettings, TraceExport, TraceExportDeps } from "./otel.js";

/**
 * The OpenTelemetry export itself (traces/otel.ts loads this file only when
 * an OTLP endpoint is set). When a run ends, the engine hands its id to
 * ended(), which queues it and returns. A timer then takes the queued runs,
 * waits for their terminal commit, reads each trace through the trace
 * service (the tree GET /traces/{runId} answers, root included), turns its
 * spans into OpenTelemetry ReadableSpans that keep agentd's trace id, span
 * ids and times, and feeds them to the SDK's BatchSpanProcessor, whose
 * OTLPTraceExporter sends them over OTLP/HTTP (JSON). Nothing of it runs on
 * a run's path, and a collector that is slow or away never holds a run:
 * past the bounded queues spans are dropped and counted, and failures are
 * logged at most once a minute.
 */

/** The GenAI semantic conventions' attribute names (incubating there: copied, as the semconv package advises, not imported). */
const GEN_AI = {
  operation: "gen_ai.operation.name",
  provider: "gen_ai.provider.name",
  /** The older name of gen_ai.provider.name, still read by many backends. */
  system: "gen_ai.system",
  requestModel: "gen_ai.request.model",
  agentId: "gen_ai.agent.id",
  agentName: "gen_ai.agent.name",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  cacheReadTokens: "gen_ai.usage.cache_read.input_tokens",
  finishReasons: "gen_ai.response.finish_reasons",
  timeToFirstChunk: "gen_ai.response.time_to_first_chunk",
  toolName: "gen_ai.tool.name",
  toolCallId: "gen_ai.tool.call.id",
  toolType: "gen_ai.tool.type",
} as const;

/** How long runs that ended gather before their traces are read: one commit wait and a few reads for many runs. */
const GATHER_MS = 100;
/** Traces read from the store at once. */
const READ_CONCURRENCY = 8;
/** At most one log line per this, however much fails. */
const LOG_INTERVAL_MS = 60_000;
/** What close() gives the last exports by default. */
const CLOSE_TIMEOUT_MS = 5_000;

type Span = GetTraceResponse["spans"][number];

export class OtlpTraceExport implements TraceExport {
  private readonly processor: BatchSpanProcessor;
  private readonly resource: Resource;
  private readonly scope: { name: string; version: string };
  /** Spans handed to the processor and not yet exported or failed: kept under its queue size, so it never drops one unseen. */
  private queued = 0;
  private readonly maxQueued: number;
  private pending: Array<{ workspaceId: string; runId: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly trouble: Trouble;

  constructor(
    settings: OtelSettings,
    private readonly deps: TraceExportDeps,
  ) {
    const version = agentdVersion();
    this.scope = { name: "agentd", version };
    // Later merges win: the defaults (telemetry.sdk.*), agentd's name, OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME.
    this.resource = defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: "agentd", [ATTR_SERVICE_VERSION]: version }))
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(settings.serviceName !== undefined ? resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }) : null);
    this.trouble = new Trouble(deps.logger);
    const exporter = new OTLPTraceExporter({
      url: settings.url,
      ...(Object.keys(settings.headers).length > 0 ? { headers: settings.headers } : {}),
      ...(settings.timeoutMillis !== undefined ? { timeoutMillis: settings.timeoutMillis } : {}),
    });
    this.maxQueued = settings.batch.maxQueueSize ?? 2048;
    this.processor = new BatchSpanProcessor(this.counting(exporter), settings.batch);
    deps.logger.info(
      { url: settings.url, serviceName: this.resource.attributes[ATTR_SERVICE_NAME] },
      "exporting run traces over OTLP/HTTP",
    );
    if (settings.protocolIgnored !== undefined) {
      deps.logger.warn(
        { protocol: settings.protocolIgnored },
        "OTEL_EXPORTER_OTLP_PROTOCOL is not http/json: agentd exports traces as OTLP/HTTP JSON, which an OTLP/HTTP receiver (port 4318) takes; a gRPC endpoint (4317) does not",
      );
    }
  }

  ended(workspaceId: string, runId: string): void {
    if (this.closing) return;
    if (this.pending.length >= this.maxQueued) return this.trouble.dropped("runs", 1);
    this.pending.push({ workspaceId, runId });
    if (this.timer === undefined && this.draining === undefined) this.schedule();
  }

  close(timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const work = (async () => {
      await this.draining;
      await this.drain();
      await this.processor.shutdown();
    })().catch((error: unknown) => this.trouble.failed(0, error));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), timeoutMs)));
    const outcome = await Promise.race([work, late]);
    clearTimeout(timer);
    if (outcome === "late") {
      this.deps.logger.warn(
        { timeoutMs, spans: this.queued },
        "OpenTelemetry export: the collector did not take the last spans in time; they are dropped",
      );
    }
    this.trouble.flush();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        // A run queued between the drain's last look and now.
        if (this.pending.length > 0 && this.timer === undefined && !this.closing) this.schedule();
      });
    }, GATHER_MS);
    this.timer.unref();
  }

  /** Reads and exports every queued run's trace. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, READ_CONCURRENCY);
      // Their terminal state (and last spans) were queued before they were: committed by then.
      await this.deps.committed().catch(() => undefined);
      await Promise.all(batch.map((run) => this.exportRun(run.workspaceId, run.runId)));
    }
  }

  private async exportRun(workspaceId: string, runId: string): Promise<void> {
    let trace: GetTraceResponse;
    try {
      trace = await this.deps.read(workspaceId, runId);
    } catch (error) {
      // Deleted since (DELETE /agent-runs): nothing to export.
      if ((error as { code?: string }).code === "not_found") return;
      return this.trouble.failed(0, error);
    }
    const root = trace.spans.find((span) => span.parentSpanId === null);
    // Not ended in the store (this worker's last writes were fenced out): the worker that ends it exports it.
    if (root === undefined || root.endedAt === null) return;
    if (this.queued + trace.spans.length > this.maxQueued) return this.trouble.dropped("spans", trace.spans.length);
    this.queued += trace.spans.length;
    for (const span of trace.spans) this.processor.onEnd(this.readable(trace, workspaceId, span, root));
  }

  /** The exporter, counting what it is done with (exported or not), and telling failures to the log. */
  private counting(exporter: SpanExporter): SpanExporter {
    return {
      export: (spans, done) =>
        exporter.export(spans, (result) => {
          this.queued = Math.max(0, this.queued - spans.length);
          // 0 is ExportResultCode.SUCCESS.
          if (result.code !== 0) this.trouble.failed(spans.length, result.error);
          done(result);
        }),
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
  }

  /** One agentd span as an OpenTelemetry span: the same ids and times, the GenAI conventions' names and attributes. */
  private readable(trace: GetTraceResponse, workspaceId: string, span: Span, root: Span): ReadableSpan {
    const { name, kind, attributes } = describe(span, trace.runId, workspaceId);
    const context: SpanContext = { traceId: trace.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
    const parent: SpanContext | undefined =
      span.parentSpanId === null
        ? undefined
        : { traceId: trace.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
    const startMs = Date.parse(span.startedAt);
    // A span left open by an attempt that died closes with the run, marked as such.
    if (span.endedAt === null) attributes["agentd.span.unfinished"] = true;
    const endMs = Math.max(startMs, Date.parse(span.endedAt ?? root.endedAt!));
    const failed = span.status === "error";
    return {
      name,
      kind,
      spanContext: () => context,
      ...(parent ? { parentSpanContext: parent } : {}),
      startTime: hrTime(startMs),
      endTime: hrTime(endMs),
      duration: hrTime(endMs - startMs),
      status: failed
        ? { code: SpanStatusCode.ERROR, ...(span.error !== null ? { message: span.error } : {}) }
        : { code: SpanStatusCode.UNSET },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource: this.resource,
      instrumentationScope: this.scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  }
}

/** Name, kind and attributes of a span, by the GenAI semantic conventions (plus agentd's own, under `agentd.`). */
export function describe(span: Span, runId: string, workspaceId: string): { name: string; kind: SpanKind; attributes: Attributes } {
  const a = span.attributes as Record<string, unknown>;
  const attributes: Attributes = { "agentd.run.id": runId, "agentd.attempt": span.attempt };
  const set = (key: string, value: unknown): void => {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") attributes[key] = value;
  };
  const failed = span.status === "error";
  switch (span.name) {
    case "run": {
      const model = modelParts(a.modelId);
      const agent = typeof a.agentId === "string" ? a.agentId : undefined;
      set(GEN_AI.operation, "invoke_agent");
      set(GEN_AI.agentId, agent);
      set(GEN_AI.agentName, agent);
      set(GEN_AI.provider, model.provider);
      set(GEN_AI.requestModel, model.vendorModelId);
      set(GEN_AI.inputTokens, a.inputTokens);
      set(GEN_AI.outputTokens, a.outputTokens);
      set(GEN_AI.cacheReadTokens, a.cachedInputTokens);
      set("agentd.workspace.id", workspaceId);
      set("agentd.model.id", a.modelId);
      set("agentd.run.status", a.runStatus);
      set("agentd.run.subtype", a.subtype);
      set("agentd.model_calls", a.modelCalls);
      set("agentd.tool_calls", a.toolCalls);
      set("agentd.cost_usd", a.costUsd);
      if (failed) set(ATTR_ERROR_TYPE, typeof a.subtype === "string" ? a.subtype : "error");
      return { name: agent !== undefined ? `invoke_agent ${agent}` : "invoke_agent", kind: SpanKind.INTERNAL, attributes };
    }
    case "model": {
      const model = modelParts(a.modelId);
      // The span's kind is the provider's name in agentd's config (`openai`, `anthropic`, or a name of the operator's).
      set(GEN_AI.operation, "chat");
      set(GEN_AI.provider, span.kind);
      set(GEN_AI.system, span.kind);
      set(GEN_AI.requestModel, model.vendorModelId);
      set(GEN_AI.inputTokens, a.inputTokens);
      set(GEN_AI.outputTokens, a.outputTokens);
      set(GEN_AI.cacheReadTokens, a.cachedInputTokens);
      if (typeof a.finishReason === "string") attributes[GEN_AI.finishReasons] = [a.finishReason];
      if (typeof a.timeToFirstTokenMs === "number") set(GEN_AI.timeToFirstChunk, a.timeToFirstTokenMs / 1000);
      set("agentd.model.id", a.modelId);
      set("agentd.latency_ms", a.latencyMs);
      set("agentd.tool_calls", a.toolCalls);
      set("agentd.cost_usd", a.costUsd);
      if (failed) set(ATTR_ERROR_TYPE, "model_error");
      const label = model.vendorModelId ?? "";
      return { name: label ? `chat ${label}` : "chat", kind: SpanKind.CLIENT, attributes };
    }
    case "tool": {
      const tool = typeof a.toolName === "string" ? a.toolName : undefined;
      set(GEN_AI.operation, "execute_tool");
      set(GEN_AI.toolName, tool);
      set(GEN_AI.toolCallId, a.toolUseId);
      // The conventions' "extension" runs on the agent's side (agentd's server tools), "function" on the client's (local tools).
      set(GEN_AI.toolType, span.kind === "server" ? "extension" : span.kind === "local" ? "function" : undefined);
      set("agentd.tool.executor", span.kind);
      set("agentd.tool.outcome", a.outcome);
      if (failed) set(ATTR_ERROR_TYPE, typeof a.outcome === "string" ? a.outcome : "error");
      return { name: tool !== undefined ? `execute_tool ${tool}` : "execute_tool", kind: SpanKind.INTERNAL, attributes };
    }
    case "wait":
      set("agentd.wait.kind", span.kind);
      return { name: `wait ${span.kind}`, kind: SpanKind.INTERNAL, attributes };
    default:
      set("agentd.span.kind", span.kind);
      return { name: span.name, kind: SpanKind.INTERNAL, attributes };
  }
}

/** `provider:<name>:<vendorModelId>` (the catalog's canonical form) into its parts; any other form is the vendor's id. */
function modelParts(modelId: unknown): { provider?: string; vendorModelId?: string } {
  if (typeof modelId !== "string" || modelId === "") return {};
  if (!modelId.startsWith("provider:")) return { vendorModelId: modelId };
  const rest = modelId.slice("provider:".length);
  // Vendor ids may contain ':' (Ollama's `llama3:8b`): split at the first only.
  const colon = rest.indexOf(":");
  return colon < 0 ? { provider: rest } : { provider: rest.slice(0, colon), vendorModelId: rest.slice(colon + 1) };
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function agentdVersion(): string {
  try {
    // src/traces or dist/traces: the package's own package.json is two folders up.
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/**
 * Export failures and drops, told to the log at most once a minute: the
 * first at once, then a count of what failed or was dropped since, with the
 * last error. A collector that is away for an hour is 60 lines, not one per batch.
 */
class Trouble {
  private lastAt = 0;
  private failedSpans = 0;
  private failures = 0;
  private droppedRuns = 0;
  private droppedSpans = 0;
  private lastError: unknown;

  constructor(private readonly logger: TraceExportDeps["logger"]) {}

  failed(spans: number, error: unknown): void {
    this.failures++;
    this.failedSpans += spans;
    this.lastError = error;
    this.maybeLog();
  }

  dropped(what: "runs" | "spans", count: number): void {
    if (what === "runs") this.droppedRuns += count;
    else this.droppedSpans += count;
    this.maybeLog();
  }

  /** Says what is left untold (at close). */
  flush(): void {
    if (this.failures + this.droppedRuns + this.droppedSpans > 0) this.log();
  }

  private maybeLog(): void {
    if (Date.now() - this.lastAt >= LOG_INTERVAL_MS) this.log();
  }

  private log(): void {
    this.lastAt = Date.now();
    const error = this.lastError;
    this.logger.warn(
      {
        ...(this.failures > 0 ? { failures: this.failures, failedSpans: this.failedSpans } : {}),
        ...(this.droppedRuns > 0 ? { droppedRuns: this.droppedRuns } : {}),
        ...(this.droppedSpans > 0 ? { droppedSpans: this.droppedSpans } : {}),
        ...(error !== undefined ? { err: error instanceof Error ? error : new Error(String(error)) } : {}),
      },
      "OpenTelemetry export: spans were not delivered (the collector is unreachable or refused them, or the queue was full); runs are not affected",
    );
    this.failures = this.failedSpans = this.droppedRuns = this.droppedSpans = 0;
    this.lastError = undefined;
  }
}

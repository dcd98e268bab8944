import type { GetTraceResponse } from "@agentd/protocol";
import type { Logger } from "../logger.js";

/**
 * OpenTelemetry export of run traces (issue #11, docs/observability.md
 * "OpenTelemetry"), off unless an OTLP endpoint is set with the standard
 * variables. This file is the part that always loads, and it imports
 * nothing of OpenTelemetry: with the export off, agentd pays one null check
 * per ended run (`EngineOptions.traceExport`), and the @opentelemetry
 * packages (~200 ms to load) are never read. With it on, startTraceExport()
 * loads traces/otlp-export.ts, which does the work off the run path.
 */

/** What the engine tells the export: a run ended (its terminal state is queued for the next group commit). */
export interface TraceExport {
  /** Called once per ended run, on the run's path: queues its id and returns. */
  ended(workspaceId: string, runId: string): void;
  /** Exports what is queued, for at most `timeoutMs`, then stops (the server's close). Never rejects. */
  close(timeoutMs?: number): Promise<void>;
}

/** The export's settings, read from the standard OTEL_* variables of the server's environment. */
export interface OtelSettings {
  /** The OTLP/HTTP traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  url: string;
  headers: Record<string, string>;
  /** The timeout of one export request (its retries included), in milliseconds. */
  timeoutMillis?: number;
  /** OTEL_SERVICE_NAME, when set (else `service.name` from OTEL_RESOURCE_ATTRIBUTES, else "agentd"). */
  serviceName?: string;
  /** The batch span processor's OTEL_BSP_* settings. */
  batch: { maxQueueSize?: number; maxExportBatchSize?: number; scheduledDelayMillis?: number; exportTimeoutMillis?: number };
  /** A protocol other than http/json was asked for: agentd sends http/json, which every OTLP/HTTP receiver takes. */
  protocolIgnored?: string;
}

/** What the export needs of the server. */
export interface TraceExportDeps {
  /** An ended run's trace, through the trace service's read path (traces/service.ts): the same tree GET /traces/{runId} answers. */
  read(workspaceId: string, runId: string): Promise<GetTraceResponse>;
  /** Resolves once the writes queued so far are committed (EventLog.flush): a run's terminal state, its last spans. */
  committed(): Promise<void>;
  logger: Logger;
}

/**
 * The export's settings, or undefined when it is off: no
 * OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
 * OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none. Throws on a value
 * that cannot be used (an endpoint that is not a URL, a count that is not one).
 */
export function otelSettings(env: Record<string, string | undefined>): OtelSettings | undefined {
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const generic = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (specific === undefined && generic === undefined) return undefined;
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === "true") return undefined;
  if (nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase() === "none") return undefined;
  const url = specific !== undefined ? parseUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", specific) : tracesUrl(generic!);
  const protocol = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL);
  const timeoutMillis =
    count("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT) ??
    count("OTEL_EXPORTER_OTLP_TIMEOUT", env.OTEL_EXPORTER_OTLP_TIMEOUT);
  const batch = {
    maxQueueSize: count("OTEL_BSP_MAX_QUEUE_SIZE", env.OTEL_BSP_MAX_QUEUE_SIZE),
    maxExportBatchSize: count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE),
    scheduledDelayMillis: count("OTEL_BSP_SCHEDULE_DELAY", env.OTEL_BSP_SCHEDULE_DELAY, 0),
    exportTimeoutMillis: count("OTEL_BSP_EXPORT_TIMEOUT", env.OTEL_BSP_EXPORT_TIMEOUT),
  };
  const serviceName = nonEmpty(env.OTEL_SERVICE_NAME);
  return {
    url,
    // The signal's own headers win over the shared ones, key by key (as the OpenTelemetry SDKs merge them).
    headers: { ...keyPairs(env.OTEL_EXPORTER_OTLP_HEADERS), ...keyPairs(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
    ...(timeoutMillis !== undefined ? { timeoutMillis } : {}),
    ...(serviceName !== undefined ? { serviceName } : {}),
    batch: Object.fromEntries(Object.entries(batch).filter(([, value]) => value !== undefined)),
    ...(protocol !== undefined && protocol !== "http/json" ? { protocolIgnored: protocol } : {}),
  };
}

/** Loads the OpenTelemetry packages and starts the export (only ever called with the export on). */
export async function startTraceExport(settings: OtelSettings, deps: TraceExportDeps): Promise<TraceExport> {
  const { OtlpTraceExport } = await import("./otlp-export.js");
  return new OtlpTraceExport(settings, deps);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** An http(s) URL (`collector:4318`, a host without a scheme, parses as a URL of scheme `collector:`: refused). */
function parseUrl(name: string, value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== "http:" && url?.protocol !== "https:")
    throw new Error(`${name} must be an http:// or https:// URL (got '${value}')`);
  return url.toString();
}

/** The OTLP/HTTP rule: the shared endpoint is a base URL, the signal's path goes after it. */
function tracesUrl(endpoint: string): string {
  parseUrl("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
  return parseUrl("OTEL_EXPORTER_OTLP_ENDPOINT", `${endpoint.replace(/\/+$/, "")}/v1/traces`);
}

function count(name: string, value: string | undefined, min = 1): number | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  const parsed = Number(text);
  if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${name} must be an integer >= ${min} (got '${text}')`);
  return parsed;
}

/** `key1=value1,key2=value2`, percent-decoded (the W3C baggage format the OTEL_*_HEADERS variables use). */
function keyPairs(value: string | undefined): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const entry of nonEmpty(value)?.split(",") ?? []) {
    const equals = entry.indexOf("=");
    if (equals <= 0) continue;
    const key = decode(entry.slice(0, equals).trim());
    if (key) pairs[key] = decode(entry.slice(equals + 1).trim());
  }
  return pairs;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

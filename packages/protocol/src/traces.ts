import { z } from "zod";
import { ListRunsQuery } from "./run-list.js";
import { RUN_STATUSES, RunStatus } from "./runs.js";
import { Usage } from "./usage.js";

/*
 * Traces (issue #11, docs/traces.md): the spans agentd records for every
 * run, `run` > `model` > `tool`, and `wait` for pauses.
 */

export const SPAN_NAMES = ["run", "model", "tool", "wait"] as const;
export const SpanName = z.enum(SPAN_NAMES);

/** One span of a run's trace. Times are ISO 8601 UTC; `endedAt` is null while the span is open. */
export const Span = z.object({
  spanId: z.string(),
  /** Null for the root (`run`) span. */
  parentSpanId: z.string().nullable(),
  name: SpanName,
  /** `agent` for the root; the provider for a model step; `server` or `local` for a tool; `local_tool` or `approval` for a wait. */
  kind: z.string(),
  /** The run's attempt that made the span: a run resumed after its worker stopped shows each attempt's spans. */
  attempt: z.number().int(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  status: z.enum(["ok", "error"]),
  error: z.string().nullable(),
  /** Per name: model id, tokens, latency, time to first token, finish reason (model); tool name, duration, outcome (tool); usage (run). */
  attributes: z.record(z.string(), z.unknown()),
});
export type Span = z.infer<typeof Span>;

/** `GET /traces/{runId}`: every span of the run, by start time. */
export const GetTraceResponse = z.object({
  runId: z.string(),
  /** 32 hex digits, derived from the run id (the same on every worker; an OpenTelemetry trace id). */
  traceId: z.string(),
  spans: z.array(Span),
});
export type GetTraceResponse = z.infer<typeof GetTraceResponse>;

/** A trace in a listing: its run's outcome and usage, without the spans. */
export const TraceSummary = z.object({
  runId: z.string(),
  traceId: z.string(),
  /** `error` when the run failed. */
  status: z.enum(["ok", "error"]),
  runStatus: RunStatus,
  agentId: z.string().nullable(),
  modelId: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** From start to end; null while the run is not ended. */
  durationMs: z.number().nullable(),
  usage: Usage,
});
export type TraceSummary = z.infer<typeof TraceSummary>;

export const ListTracesResponse = z.object({
  traces: z.array(TraceSummary),
  nextCursor: z.string().nullable(),
});
export type ListTracesResponse = z.infer<typeof ListTracesResponse>;

/** Values of `GET /traces?status=`: a run status, or `error` (a failed run: its root span is an error). */
export const TRACE_STATUSES = [...RUN_STATUSES, "error"] as const;

const quote = (value: string): string => `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;

/** As the run listing's `status`, plus `error` (read as `failed`). */
const traceStatusFilter = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .transform((values, ctx) => {
    const statuses = new Set<RunStatus>();
    for (const piece of values.flatMap((value) => value.split(","))) {
      const trimmed = piece.trim();
      const parsed = RunStatus.safeParse(trimmed === "error" ? "failed" : trimmed);
      if (parsed.success) statuses.add(parsed.data);
      else ctx.addIssue({ code: "custom", message: `invalid value ${quote(piece)} (one of ${TRACE_STATUSES.join(", ")})` });
    }
    return [...statuses];
  });

/** `GET /traces`: the run listing's filters and cursor (its cursors are the run listing's), `status` also taking `error`. */
export const ListTracesQuery = ListRunsQuery.extend({ status: traceStatusFilter.optional() });
export type ListTracesQuery = z.output<typeof ListTracesQuery>;

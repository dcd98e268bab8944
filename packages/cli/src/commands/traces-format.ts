import type { GetTraceResponse, Span, TraceSummary } from "@agentd/protocol";
import { formatCost, formatDuration, formatTable, oneLine, shortTime } from "./format.js";

/** Characters of the timeline column of `agentd traces show`. */
export const TIMELINE_WIDTH = 24;
/** Longest span label (name, model or tool, attempt) before it is cut. */
const LABEL_WIDTH = 48;

export function formatTraceTable(traces: TraceSummary[]): string {
  return formatTable([
    ["RUN", "STATUS", "AGENT", "MODEL", "STARTED", "DURATION", "TOKENS", "COST"],
    ...traces.map((trace) => [
      trace.runId,
      trace.runStatus,
      trace.agentId ?? "-",
      trace.modelId,
      shortTime(trace.startedAt),
      trace.durationMs === null ? "-" : formatDuration(trace.durationMs),
      `${trace.usage.inputTokens}/${trace.usage.outputTokens}`,
      formatCost(trace.usage.costUsd),
    ]),
  ]);
}

interface Placed {
  span: Span;
  /** The tree drawn to the left of the name: `├─ `, `│  └─ `. */
  prefix: string;
}

/**
 * `agentd traces show`: a line saying what the run did, then its spans as a
 * tree (children under their parent, by start time) with a timeline bar
 * each, so where the time went shows at a glance; errors in full after.
 * `now` is where open spans (a live run's) end.
 */
export function formatTrace(trace: GetTraceResponse, now = Date.now()): string {
  if (trace.spans.length === 0) return `trace ${trace.traceId} of run ${trace.runId}: no spans\n`;
  const placed = placeSpans(trace.spans);
  const start = Math.min(...trace.spans.map((span) => Date.parse(span.startedAt)));
  const end = Math.max(...trace.spans.map((span) => endOf(span, now)));
  const attempts = new Set(trace.spans.map((span) => span.attempt)).size > 1;
  const rows = placed.map(({ span, prefix }) => {
    const began = Date.parse(span.startedAt);
    return [
      prefix + oneLine(`${label(span)}${attempts ? ` (attempt ${span.attempt})` : ""}`, LABEL_WIDTH),
      span.kind,
      `+${formatDuration(began - start)}`,
      span.endedAt === null ? "open" : formatDuration(endOf(span, now) - began),
      tokens(span.attributes),
      cost(span.attributes),
      span.status,
      timeline(began - start, endOf(span, now) - start, end - start),
    ];
  });
  const root = trace.spans.find((span) => span.parentSpanId === null);
  let out = `${headline(trace, root, end - start)}\n\n`;
  out += formatTable([["SPAN", "KIND", "START", "DURATION", "TOKENS", "COST", "STATUS", "TIMELINE"], ...rows]);
  const failed = placed.filter(({ span }) => span.status === "error");
  if (failed.length > 0) {
    out += `\nerrors:\n${failed.map(({ span }) => `  ${label(span)} at +${formatDuration(Date.parse(span.startedAt) - start)}: ${span.error ?? "(no message)"}`).join("\n")}\n`;
  }
  return out;
}

function headline(trace: GetTraceResponse, root: Span | undefined, totalMs: number): string {
  const parts = [`trace ${trace.traceId}`, `run ${trace.runId}`];
  if (root !== undefined) {
    const { runStatus, subtype, inputTokens, outputTokens, costUsd } = root.attributes;
    if (typeof runStatus === "string") parts.push(typeof subtype === "string" ? `${runStatus} (${subtype})` : runStatus);
    parts.push(root.endedAt === null ? `not ended, ${formatDuration(totalMs)} so far` : formatDuration(totalMs));
    if (typeof inputTokens === "number" && typeof outputTokens === "number") parts.push(`${inputTokens} in + ${outputTokens} out tokens`);
    if (costUsd !== undefined) parts.push(typeof costUsd === "number" ? formatCost(costUsd) : "cost unknown");
  }
  return parts.join(" · ");
}

/** Depth-first from the roots (a span whose parent is not in the trace counts as one), siblings by start time. */
function placeSpans(spans: Span[]): Placed[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string | null, Span[]>();
  for (const span of spans) {
    const parent = span.parentSpanId !== null && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const byStart = (a: Span, b: Span): number => Date.parse(a.startedAt) - Date.parse(b.startedAt);
  const placed: Placed[] = [];
  const visit = (span: Span, prefix: string, childIndent: string): void => {
    placed.push({ span, prefix });
    const kids = [...(children.get(span.spanId) ?? [])].sort(byStart);
    kids.forEach((kid, index) => {
      const last = index === kids.length - 1;
      visit(kid, `${childIndent}${last ? "└─ " : "├─ "}`, `${childIndent}${last ? "   " : "│  "}`);
    });
  };
  for (const root of [...(children.get(null) ?? [])].sort(byStart)) visit(root, "", "");
  return placed;
}

/** `run support`, `model provider:openai:gpt-4o-mini`, `tool lookup_order`, `wait`. */
function label(span: Span): string {
  const { agentId, modelId, toolName } = span.attributes;
  const detail = span.name === "run" ? agentId : span.name === "model" ? modelId : span.name === "tool" ? toolName : undefined;
  return typeof detail === "string" ? `${span.name} ${detail}` : span.name;
}

const endOf = (span: Span, now: number): number =>
  span.endedAt === null ? Math.max(now, Date.parse(span.startedAt)) : Date.parse(span.endedAt);

function tokens(attributes: Record<string, unknown>): string {
  const { inputTokens, outputTokens } = attributes;
  return typeof inputTokens === "number" && typeof outputTokens === "number" ? `${inputTokens}/${outputTokens}` : "-";
}

/** A model span's or the run's cost; `-` where a span has none (tools, waits). */
function cost(attributes: Record<string, unknown>): string {
  if (!("costUsd" in attributes)) return "-";
  return formatCost(typeof attributes.costUsd === "number" ? attributes.costUsd : null);
}

/** `|  ████      |`: where in the run the span lies; at least one mark, so an instant span still shows. */
export function timeline(fromMs: number, toMs: number, totalMs: number, width = TIMELINE_WIDTH): string {
  const scale = totalMs > 0 ? width / totalMs : 0;
  const first = totalMs > 0 ? Math.min(width - 1, Math.floor(fromMs * scale)) : 0;
  const last = totalMs > 0 ? Math.max(first + 1, Math.min(width, Math.ceil(toMs * scale))) : width;
  return `|${" ".repeat(first)}${"█".repeat(last - first)}${" ".repeat(width - last)}|`;
}

import {
  TERMINAL_RUN_STATUSES,
  type GetTraceResponse,
  type ListTracesQuery,
  type ListTracesResponse,
  type RunSnapshot,
  type TraceSummary,
} from "@agentd/protocol";
import { rootSpan, traceIds } from "../engine/trace.js";
import { AgentdError, notFound } from "../errors.js";
import type { EventLog } from "../events/log.js";
import type { RunService } from "../runs/service.js";
import type { SpanRecord, Store, WorkspaceRecord } from "../store/types.js";

/**
 * Reading and deleting traces (issue #11, docs/traces.md). The engine writes
 * them (engine/trace.ts); this only reads what the store has, always after
 * checking the run belongs to the caller's workspace.
 */
export class TraceService {
  constructor(
    private readonly store: Store,
    private readonly runs: RunService,
    private readonly log: EventLog,
  ) {}

  async get(workspace: WorkspaceRecord, runId: string): Promise<GetTraceResponse> {
    const run = await this.runs.get(workspace, runId);
    const spans = await this.store.readSpans(run.id);
    // The root is the run's own row (engine/trace.ts rootSpan); runs ended before agentd stopped storing it have it stored.
    if (!spans.some((span) => span.parentSpanId === null)) spans.unshift(rootSpan(run));
    return { runId: run.id, traceId: traceIds(run.id).traceId, spans: spans.map(toSpan) };
  }

  /**
   * The trace of a run by its workspace's id, for the OpenTelemetry export
   * (traces/otlp-export.ts): the same read as get(), whose caller's
   * workspace is the run's own here (the engine names it).
   */
  ofRun(workspaceId: string, runId: string): Promise<GetTraceResponse> {
    return this.get({ id: workspaceId, slug: "", createdAt: "" }, runId);
  }

  /** The run listing, one summary per run (no span is read: a page costs what a page of runs does). */
  async list(workspace: WorkspaceRecord, query: ListTracesQuery): Promise<ListTracesResponse> {
    const page = await this.runs.list(workspace, query);
    return { traces: page.runs.map(summary), nextCursor: page.nextCursor };
  }

  /** Removes a run's trace; the run and its events stay. */
  async delete(workspace: WorkspaceRecord, runId: string): Promise<void> {
    const run = await this.runs.get(workspace, runId);
    await this.store.deleteSpans(run.id);
  }

  /**
   * Removes an ended run with its events and trace (they cascade). A run
   * not ended is a 409: its worker would go on writing to a run that is
   * gone. The store re-checks the status in its DELETE, so a run that
   * starts again meanwhile (a session's next message cannot: it is a new run) stays.
   */
  async deleteRun(workspace: WorkspaceRecord, runId: string): Promise<void> {
    const run = await this.runs.get(workspace, runId);
    const live = (): AgentdError =>
      new AgentdError("conflict", `run ${runId} has not ended (it is ${run.status}); cancel it first`, {
        hint: "POST /agent-runs/{runId}/cancel, then delete it once it has ended.",
      });
    if (!TERMINAL_RUN_STATUSES.has(run.status)) throw live();
    if (!(await this.store.deleteEndedRun(workspace.id, run.id))) {
      if (await this.store.getRun(workspace.id, run.id)) throw live();
      throw notFound(`run ${runId}`);
    }
    // Cached tails (this worker's and the others') would otherwise still answer a stream of the deleted run.
    this.log.runsDeleted([run.id]);
  }
}

function toSpan(span: SpanRecord): GetTraceResponse["spans"][number] {
  const { runId: _runId, ...fields } = span;
  return fields;
}

function summary(run: RunSnapshot): TraceSummary {
  const ended = run.endedAt !== null && run.startedAt !== null;
  return {
    runId: run.runId,
    traceId: traceIds(run.runId).traceId,
    status: run.status === "failed" ? "error" : "ok",
    runStatus: run.status,
    agentId: run.agentId,
    modelId: run.modelId,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationMs: ended ? Date.parse(run.endedAt!) - Date.parse(run.startedAt!) : null,
    usage: run.usage,
  };
}

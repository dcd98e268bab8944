import type {
  CancelRunRequest,
  ContinueRunRequest,
  CreateRunResponse,
  ListRunsResponse,
  OkResponse,
  RunEvent,
  RunSnapshot,
} from "@agentd/protocol";
import { collectResult } from "../internal/drive.js";
import { streamRunEvents } from "../internal/event-stream.js";
import type { RequestOptions, Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";
import { PageList } from "../pagination.js";
import { toWireTools } from "../tools.js";
import type { ListRunsParams, RunResult, StartRunParams, StreamOptions, ToolResultBody } from "../types.js";

/** `runs.list`: await it for the first page, `for await` it for every run. */
export type RunList = PageList<ListRunsResponse, RunSnapshot>;

/** Low-level run calls. `agents.run` / `agents.stream` drive a run end to end. */
export class Runs {
  constructor(private readonly transport: Transport) {}

  /** Creates a run (202) without following it. Local handlers in `tools` are not run: use `agents.run` for that. */
  start(params: StartRunParams, options?: RequestOptions): Promise<CreateRunResponse> {
    return this.transport.json({ ...operations.createRun(), body: { ...params, tools: toWireTools(params.tools) }, ...options });
  }

  /** Decides calls waiting for approval (`approval_required`); all or nothing. */
  async continue(runId: string, body: ContinueRunRequest, options?: RequestOptions): Promise<void> {
    await this.transport.json<OkResponse>({ ...operations.continueRun(runId), body, ...options });
  }

  get(runId: string, options?: RequestOptions): Promise<RunSnapshot> {
    return this.transport.json({ ...operations.getRun(runId), ...options });
  }

  /**
   * The workspace's runs, newest first. `await` it for one page
   * (`{ runs, nextCursor }`), or `for await` it for every matching run,
   * fetching pages as the loop needs them (`break` stops fetching).
   */
  list(params: ListRunsParams = {}, options?: RequestOptions): RunList {
    const { cursor, ...filters } = params;
    const query = listQuery(filters);
    return new PageList(
      (next) => this.transport.json<ListRunsResponse>({ ...operations.listRuns(), query: { ...query, cursor: next }, ...options }),
      (page) => page.runs,
      cursor,
    );
  }

  /** Deletes an ended run with its events and trace; a run not ended is a `ConflictError` (409): cancel it first. */
  delete(runId: string, options?: RequestOptions): Promise<OkResponse> {
    return this.transport.json({ ...operations.deleteRun(runId), ...options });
  }

  /** Idempotent; the run ends with a `cancelled` event. */
  cancel(runId: string, body: CancelRunRequest = {}, options?: RequestOptions): Promise<OkResponse> {
    return this.transport.json({ ...operations.cancelRun(runId), body, ...options });
  }

  /** Answers a `local_tool_call` by hand (`agents.run` does this for `defineTool` handlers). */
  submitToolResult(runId: string, body: ToolResultBody, options?: RequestOptions): Promise<OkResponse> {
    return this.transport.json({ ...operations.submitToolResult(runId), body, ...options });
  }

  /**
   * The run's events, resumed transparently after dropped connections, until
   * its terminal event. `break` closes the connection; the run goes on.
   */
  stream(runId: string, options?: StreamOptions): AsyncGenerator<RunEvent> {
    return streamRunEvents(this.transport, runId, options);
  }

  /** Waits for the run to end without acting on it (a paused run waits for someone else's tool result). */
  wait(runId: string, options: { signal?: AbortSignal } = {}): Promise<RunResult> {
    return collectResult(runId, streamRunEvents(this.transport, runId, options));
  }
}

/** The wire form (seed 004 §4.2): lists as repeated parameters, metadata as `key:value`, instants as ISO 8601. Also `traces.list`'s. */
export function listQuery(
  params: Omit<ListRunsParams, "cursor" | "status"> & { status?: string | readonly string[] },
): Record<string, string | number | readonly string[] | undefined> {
  const instant = (value: Date | string | undefined) => (value instanceof Date ? value.toISOString() : value);
  return {
    status: typeof params.status === "string" ? [params.status] : params.status,
    agentId: params.agentId,
    sessionId: params.sessionId,
    metadata: params.metadata && Object.entries(params.metadata).map(([key, value]) => `${key}:${value}`),
    createdAfter: instant(params.createdAfter),
    createdBefore: instant(params.createdBefore),
    limit: params.limit,
  };
}

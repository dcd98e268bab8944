import type { GetTraceResponse, ListTracesResponse, OkResponse, TraceSummary } from "@agentd/protocol";
import type { RequestOptions, Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";
import { PageList } from "../pagination.js";
import type { ListTracesParams } from "../types.js";
import { listQuery } from "./runs.js";

/** `traces.list`: await it for the first page, `for await` it for every trace. */
export type TraceList = PageList<ListTracesResponse, TraceSummary>;

/** What runs did: their spans, usage and cost (docs/traces.md). */
export class Traces {
  constructor(private readonly transport: Transport) {}

  /** A run's trace: `{ runId, traceId, spans }`, spans by start time. */
  get(runId: string, options?: RequestOptions): Promise<GetTraceResponse> {
    return this.transport.json({ ...operations.getTrace(runId), ...options });
  }

  /** Traces, newest run first, with the run listing's filters (`status: "error"` for failed runs). */
  list(params: ListTracesParams = {}, options?: RequestOptions): TraceList {
    const { cursor, ...filters } = params;
    const query = listQuery(filters);
    return new PageList(
      (next) => this.transport.json<ListTracesResponse>({ ...operations.listTraces(), query: { ...query, cursor: next }, ...options }),
      (page) => page.traces,
      cursor,
    );
  }

  /** Deletes a run's trace; the run and its events stay. */
  delete(runId: string, options?: RequestOptions): Promise<OkResponse> {
    return this.transport.json({ ...operations.deleteTrace(runId), ...options });
  }
}

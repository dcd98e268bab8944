import { OkResponse, RUN_STATUSES } from "../runs.js";
import { GetTraceResponse, ListTracesQuery, ListTracesResponse } from "../traces.js";
import { API_PREFIX } from "../wire.js";
import { defineRoute } from "./route.js";
import { listRunsParameters } from "./runs.js";

const TRACES = `${API_PREFIX}/{workspace}/traces`;

/** The run listing's parameters, `status` also taking `error` (ListTracesQuery). */
const listTracesParameters = listRunsParameters.map((parameter) =>
  parameter.name === "status"
    ? {
        ...parameter,
        description: "Only traces of runs in these states (`error`: failed runs); repeat the parameter or separate with commas",
        schema: { type: "string", enum: [...RUN_STATUSES, "error"] },
      }
    : parameter,
);

/** Traces of runs (issue #11, docs/traces.md). */
export const traceRoutes = {
  listTraces: defineRoute({
    operationId: "listTraces",
    method: "GET",
    path: TRACES,
    summary: "List traces, newest run first, with the run listing's filters and cursor pages",
    tag: "traces",
    auth: "key",
    scope: "runs:read",
    query: { parameters: listTracesParameters, schema: ListTracesQuery },
    responses: { 200: { description: "One page of traces", schema: ListTracesResponse } },
  }),
  getTrace: defineRoute({
    operationId: "getTrace",
    method: "GET",
    path: `${TRACES}/{runId}`,
    summary: "A run's trace: its spans, by start time",
    tag: "traces",
    auth: "key",
    scope: "runs:read",
    responses: { 200: { description: "The trace", schema: GetTraceResponse } },
    errors: [404],
  }),
  deleteTrace: defineRoute({
    operationId: "deleteTrace",
    method: "DELETE",
    path: `${TRACES}/{runId}`,
    summary: "Delete a run's trace (the run and its events stay)",
    tag: "traces",
    auth: "key",
    scope: "runs:write",
    responses: { 200: { description: "Deleted", schema: OkResponse } },
    errors: [404],
  }),
} as const;

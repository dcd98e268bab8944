import { LIST_RUNS_LIMIT, ListRunsQuery, ListRunsResponse } from "../run-list.js";
import {
  CancelRunRequest,
  ContinueRunRequest,
  CreateRunRequest,
  CreateRunResponse,
  OkResponse,
  RUN_STATUSES,
  RunSnapshot,
  ToolResultRequest,
} from "../runs.js";
import { RunStreamFrame } from "../events.js";
import { API_PREFIX, LAST_SEQ_QUERY } from "../wire.js";
import { IDEMPOTENCY_KEY, LAST_EVENT_ID } from "./headers.js";
import { defineRoute, type QueryParameter } from "./route.js";

const RUNS = `${API_PREFIX}/{workspace}/agent-runs`;
const RUN = `${RUNS}/{runId}`;

const param = (name: string, description: string, schema: Record<string, unknown>): QueryParameter => ({ name, description, schema });
const repeated = (name: string, description: string, items: Record<string, unknown>): QueryParameter => ({
  name,
  description,
  schema: items,
  repeated: true,
});

/** `GET /agent-runs`, in ListRunsQuery's order (routes.test.ts holds them to its keys). */
export const listRunsParameters = [
  repeated("status", "Only runs in these states; repeat the parameter or separate with commas", {
    type: "string",
    enum: [...RUN_STATUSES],
  }),
  param("agentId", "Only runs of this named agent", { type: "string" }),
  param("sessionId", "Only runs of this session", { type: "string" }),
  repeated("metadata", "`key:value`, repeatable; a run must have every pair (AND)", { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}:" }),
  param("createdAfter", "Only runs created strictly after this ISO 8601 instant", { type: "string", format: "date-time" }),
  param("createdBefore", "Only runs created strictly before this ISO 8601 instant", { type: "string", format: "date-time" }),
  param("limit", "Runs per page", { type: "integer", minimum: 1, maximum: LIST_RUNS_LIMIT.max, default: LIST_RUNS_LIMIT.default }),
  param("cursor", "A previous page's `nextCursor` (opaque); send the same filters with it", { type: "string" }),
];

export const runRoutes = {
  listRuns: defineRoute({
    operationId: "listRuns",
    method: "GET",
    path: RUNS,
    summary: "List runs, newest first, filtered and paginated by cursor",
    tag: "runs",
    auth: "key",
    scope: "runs:read",
    query: { parameters: listRunsParameters, schema: ListRunsQuery },
    responses: { 200: { description: "One page of runs", schema: ListRunsResponse } },
  }),
  createRun: defineRoute({
    operationId: "createRun",
    method: "POST",
    path: RUNS,
    summary: "Start a run",
    tag: "runs",
    auth: "key",
    scope: "runs:write",
    headers: [IDEMPOTENCY_KEY],
    body: { schema: CreateRunRequest, required: true },
    responses: { 202: { description: "Accepted", schema: CreateRunResponse } },
    // 404: a named agent that does not exist; 429/503: the workspace's or the server's run caps (runs/admission.ts).
    errors: [404, 429, 503],
  }),
  getRun: defineRoute({
    operationId: "getRun",
    method: "GET",
    path: RUN,
    summary: "Run snapshot",
    tag: "runs",
    auth: "key",
    scope: "runs:read",
    responses: { 200: { description: "Snapshot", schema: RunSnapshot } },
    errors: [404],
  }),
  streamRun: defineRoute({
    operationId: "streamRun",
    method: "GET",
    path: `${RUN}/stream`,
    summary: "Server-sent events of the run, replayable with Last-Event-ID or ?lastSeq=",
    tag: "runs",
    auth: "key",
    scope: "runs:read",
    // Parsed with Last-Event-ID by the stream itself (the later cursor wins), not by a zod schema.
    query: {
      parameters: [{ name: LAST_SEQ_QUERY, description: "Replay the events after this `seq`", schema: { type: "integer", minimum: 0 } }],
    },
    headers: [LAST_EVENT_ID],
    responses: {
      200: {
        description:
          "`text/event-stream`; each frame's data is a RunEvent (its `seq` is the frame's `id:`), up to the terminal one; a stream that breaks off after its headers ends with one `error` frame (a StreamErrorFrame, no `id:`) instead; a stream that ends with neither is resumed with the cursor",
        mediaType: "text/event-stream",
        schema: RunStreamFrame,
      },
    },
    errors: [404],
  }),
  submitToolResult: defineRoute({
    operationId: "submitToolResult",
    method: "POST",
    path: `${RUN}/tool-results`,
    summary: "Answer a local tool call",
    tag: "runs",
    auth: "key",
    scope: "runs:write",
    body: { schema: ToolResultRequest, required: true },
    responses: { 200: { description: "Accepted", schema: OkResponse } },
    errors: [404, 409],
  }),
  continueRun: defineRoute({
    operationId: "continueRun",
    method: "POST",
    path: `${RUN}/continue`,
    summary: "Decide tool calls waiting for approval",
    tag: "runs",
    auth: "key",
    scope: "runs:write",
    body: { schema: ContinueRunRequest, required: true },
    responses: { 200: { description: "Accepted", schema: OkResponse } },
    errors: [404, 409],
  }),
  cancelRun: defineRoute({
    operationId: "cancelRun",
    method: "POST",
    path: `${RUN}/cancel`,
    summary: "Cancel a run (idempotent)",
    tag: "runs",
    auth: "key",
    scope: "runs:write",
    body: { schema: CancelRunRequest, required: false },
    responses: { 200: { description: "OK", schema: OkResponse } },
    errors: [404],
  }),
  deleteRun: defineRoute({
    operationId: "deleteRun",
    method: "DELETE",
    path: RUN,
    summary: "Delete an ended run with its events and trace",
    tag: "runs",
    auth: "key",
    scope: "runs:write",
    responses: { 200: { description: "Deleted", schema: OkResponse } },
    // 409: the run has not ended (cancel it first).
    errors: [404, 409],
  }),
} as const;

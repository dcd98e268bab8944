import { z } from "zod";
import { ErrorBody } from "./errors.js";
import { RunEvent } from "./events.js";
import { ModelCatalog } from "./models.js";
import { API_PREFIX } from "./paths.js";
import { CreateRunRequest, CreateRunResponse, OkResponse, RUN_STATUSES, RunSnapshot, ToolResultRequest, CancelRunRequest, ContinueRunRequest } from "./runs.js";
import { CreateSessionRequest, CreateSessionResponse, SessionInfo, SessionMessageRequest } from "./sessions.js";
import { LIST_RUNS_LIMIT, ListRunsResponse } from "./run-list.js";
import { PROTOCOL_VERSION } from "./version.js";

type JsonObject = Record<string, unknown>;

const schema = (s: z.ZodType): JsonObject => z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as JsonObject;
const json = (s: z.ZodType) => ({ content: { "application/json": { schema: schema(s) } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: "Error", ...json(ErrorBody) }]));

const workspaceParam = { name: "workspace", in: "path", required: true, schema: { type: "string" } };
const runParam = { name: "runId", in: "path", required: true, schema: { type: "string" } };
const sessionParam = { name: "sessionId", in: "path", required: true, schema: { type: "string" } };
const idempotencyKeyParam = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "A retry with the same key and body gets the first answer and starts nothing new (24 h)",
  schema: { type: "string", minLength: 1, maxLength: 255 },
};

/**
 * Written out rather than generated: ListRunsQuery parses strings from the
 * query string, so its JSON Schema would describe strings, not the values
 * a client sends. `style: form, explode: true` is the repeated-parameter form.
 */
const query = (name: string, description: string, schema: JsonObject) => ({ name, in: "query", required: false, description, schema });
const repeated = (name: string, description: string, items: JsonObject) => ({ ...query(name, description, { type: "array", items }), style: "form", explode: true });
const listRunsParams = [
  repeated("status", "Only runs in these states; repeat the parameter or separate with commas", { type: "string", enum: [...RUN_STATUSES] }),
  query("agentId", "Only runs of this named agent", { type: "string" }),
  query("sessionId", "Only runs of this session", { type: "string" }),
  repeated("metadata", "`key:value`, repeatable; a run must have every pair (AND)", { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}:" }),
  query("createdAfter", "Only runs created strictly after this ISO 8601 instant", { type: "string", format: "date-time" }),
  query("createdBefore", "Only runs created strictly before this ISO 8601 instant", { type: "string", format: "date-time" }),
  query("limit", "Runs per page", { type: "integer", minimum: 1, maximum: LIST_RUNS_LIMIT.max, default: LIST_RUNS_LIMIT.default }),
  query("cursor", "A previous page's `nextCursor` (opaque); send the same filters with it", { type: "string" }),
];

/** The OpenAPI 3.1 document, generated from the same schemas the server validates with. */
export function openApiDocument(): JsonObject {
  const ws = `${API_PREFIX}/{workspace}`;
  return {
    openapi: "3.1.0",
    info: { title: "agentd", version: PROTOCOL_VERSION, description: "Self-hostable runtime for LLM agents." },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
      schemas: { RunEvent: schema(RunEvent), ErrorBody: schema(ErrorBody) },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      "/healthz": { get: { summary: "Liveness", security: [], responses: { "200": { description: "OK", ...json(OkResponse) } } } },
      "/readyz": {
        get: {
          summary: "Readiness: the store answers (503 when not), and every provider's circuit breaker",
          security: [],
          responses: { "200": { description: "Ready", content: { "application/json": { schema: { type: "object" } } } }, "503": { description: "The store does not answer" } },
        },
      },
      "/metrics": {
        get: { summary: "Prometheus metrics", security: [], responses: { "200": { description: "Text exposition format", content: { "text/plain": { schema: { type: "string" } } } } } },
      },
      "/openapi.json": { get: { summary: "This document", security: [], responses: { "200": { description: "The OpenAPI 3.1 document", content: { "application/json": { schema: { type: "object" } } } } } } },
      [`${ws}/models`]: {
        get: { summary: "List runnable models", parameters: [workspaceParam], responses: { "200": { description: "Catalog", ...json(ModelCatalog) }, ...errors(401, 404) } },
      },
      [`${ws}/agent-runs`]: {
        get: {
          summary: "List runs, newest first, filtered and paginated by cursor",
          parameters: [workspaceParam, ...listRunsParams],
          responses: { "200": { description: "One page of runs", ...json(ListRunsResponse) }, ...errors(400, 401, 404) },
        },
        post: {
          summary: "Start a run",
          parameters: [workspaceParam, idempotencyKeyParam],
          requestBody: { required: true, ...json(CreateRunRequest) },
          responses: { "202": { description: "Accepted", ...json(CreateRunResponse) }, ...errors(400, 401, 404, 413) },
        },
      },
      [`${ws}/agent-runs/{runId}`]: {
        get: { summary: "Run snapshot", parameters: [workspaceParam, runParam], responses: { "200": { description: "Snapshot", ...json(RunSnapshot) }, ...errors(401, 404) } },
      },
      [`${ws}/agent-runs/{runId}/stream`]: {
        get: {
          summary: "Server-sent events of the run, replayable with Last-Event-ID or ?lastSeq=",
          parameters: [
            workspaceParam,
            runParam,
            { name: "lastSeq", in: "query", required: false, schema: { type: "integer", minimum: 0 } },
            { name: "Last-Event-ID", in: "header", required: false, schema: { type: "string" } },
          ],
          responses: {
            "200": { description: "`text/event-stream`; each frame's data is a RunEvent", content: { "text/event-stream": { schema: { $ref: "#/components/schemas/RunEvent" } } } },
            ...errors(400, 401, 404),
          },
        },
      },
      [`${ws}/agent-runs/{runId}/tool-results`]: {
        post: {
          summary: "Answer a local tool call",
          parameters: [workspaceParam, runParam],
          requestBody: { required: true, ...json(ToolResultRequest) },
          responses: { "200": { description: "Accepted", ...json(OkResponse) }, ...errors(400, 401, 404, 409) },
        },
      },
      [`${ws}/agent-runs/{runId}/continue`]: {
        post: {
          summary: "Decide tool calls waiting for approval",
          parameters: [workspaceParam, runParam],
          requestBody: { required: true, ...json(ContinueRunRequest) },
          responses: { "200": { description: "Accepted", ...json(OkResponse) }, ...errors(400, 401, 404, 409) },
        },
      },
      [`${ws}/agent-runs/{runId}/cancel`]: {
        post: {
          summary: "Cancel a run (idempotent)",
          parameters: [workspaceParam, runParam],
          requestBody: { required: false, ...json(CancelRunRequest) },
          responses: { "200": { description: "OK", ...json(OkResponse) }, ...errors(401, 404) },
        },
      },
      [`${ws}/agent-sessions`]: {
        post: {
          summary: "Create a session",
          parameters: [workspaceParam, idempotencyKeyParam],
          requestBody: { required: true, ...json(CreateSessionRequest) },
          responses: { "201": { description: "Created", ...json(CreateSessionResponse) }, ...errors(400, 401, 404) },
        },
      },
      [`${ws}/agent-sessions/{sessionId}`]: {
        get: { summary: "Session snapshot with history", parameters: [workspaceParam, sessionParam], responses: { "200": { description: "Session", ...json(SessionInfo) }, ...errors(401, 404) } },
        delete: { summary: "End the session and cancel its run", parameters: [workspaceParam, sessionParam], responses: { "200": { description: "OK", ...json(OkResponse) }, ...errors(401, 404) } },
      },
      [`${ws}/agent-sessions/{sessionId}/messages`]: {
        post: {
          summary: "Send a message: starts a run on the session's history",
          parameters: [workspaceParam, sessionParam, idempotencyKeyParam],
          requestBody: { required: true, ...json(SessionMessageRequest) },
          responses: { "202": { description: "Accepted", ...json(CreateRunResponse) }, ...errors(400, 401, 404, 409) },
        },
      },
    },
  };
}

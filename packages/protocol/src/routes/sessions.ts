import { CreateRunResponse, OkResponse } from "../runs.js";
import { CreateSessionRequest, CreateSessionResponse, SessionInfo, SessionMessageRequest } from "../sessions.js";
import { API_PREFIX } from "../wire.js";
import { IDEMPOTENCY_KEY } from "./headers.js";
import { defineRoute } from "./route.js";

const SESSIONS = `${API_PREFIX}/{workspace}/agent-sessions`;
const SESSION = `${SESSIONS}/{sessionId}`;

export const sessionRoutes = {
  createSession: defineRoute({
    operationId: "createSession",
    method: "POST",
    path: SESSIONS,
    summary: "Create a session",
    tag: "sessions",
    auth: "key",
    scope: "runs:write",
    headers: [IDEMPOTENCY_KEY],
    body: { schema: CreateSessionRequest, required: true },
    responses: { 201: { description: "Created", schema: CreateSessionResponse } },
    errors: [404],
  }),
  getSession: defineRoute({
    operationId: "getSession",
    method: "GET",
    path: SESSION,
    summary: "Session snapshot with history",
    tag: "sessions",
    auth: "key",
    scope: "runs:read",
    responses: { 200: { description: "Session", schema: SessionInfo } },
    errors: [404],
  }),
  endSession: defineRoute({
    operationId: "endSession",
    method: "DELETE",
    path: SESSION,
    summary: "End the session and cancel its run",
    tag: "sessions",
    auth: "key",
    scope: "runs:write",
    responses: { 200: { description: "OK", schema: OkResponse } },
    errors: [404],
  }),
  sendSessionMessage: defineRoute({
    operationId: "sendSessionMessage",
    method: "POST",
    path: `${SESSION}/messages`,
    summary: "Send a message: starts a run on the session's history",
    tag: "sessions",
    auth: "key",
    scope: "runs:write",
    headers: [IDEMPOTENCY_KEY],
    body: { schema: SessionMessageRequest, required: true },
    responses: { 202: { description: "Accepted", schema: CreateRunResponse } },
    // 409: the session has ended or is busy (onBusy: reject); 429/503: the run caps, as for createRun.
    errors: [404, 409, 429, 503],
  }),
} as const;

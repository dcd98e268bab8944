import type {
  API_PREFIX as ProtocolApiPrefix,
  LAST_SEQ_QUERY as ProtocolLastSeqQuery,
  headers as protocolHeaders,
  paths as protocolPaths,
} from "@agentd/protocol";

// The SDK has zero runtime dependencies, so it cannot import the protocol's
// `paths` at run time. These copies are typed against the protocol's
// declarations (literal types make a drifted constant a compile error) and
// test/routes.test.ts checks every path against the protocol's own output.

export const API_PREFIX: typeof ProtocolApiPrefix = "/api/v1/workspaces";
export const LAST_SEQ_QUERY: typeof ProtocolLastSeqQuery = "lastSeq";

export const headers: typeof protocolHeaders = {
  apiKey: "x-api-key",
  authorization: "authorization",
  lastEventId: "last-event-id",
  requestId: "x-request-id",
};

const id = encodeURIComponent;

export const paths: typeof protocolPaths = {
  workspace: (workspace) => `${API_PREFIX}/${id(workspace)}`,
  models: () => "/models",
  runs: () => "/agent-runs",
  run: (runId) => `/agent-runs/${id(runId)}`,
  runStream: (runId) => `/agent-runs/${id(runId)}/stream`,
  runToolResults: (runId) => `/agent-runs/${id(runId)}/tool-results`,
  runCancel: (runId) => `/agent-runs/${id(runId)}/cancel`,
  runContinue: (runId) => `/agent-runs/${id(runId)}/continue`,
  sessions: () => "/agent-sessions",
  session: (sessionId) => `/agent-sessions/${id(sessionId)}`,
  sessionMessages: (sessionId) => `/agent-sessions/${id(sessionId)}/messages`,
};

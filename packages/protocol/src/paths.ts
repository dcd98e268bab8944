/** The API's paths, shared by the server's router and the SDK. */
export const API_PREFIX = "/api/v1/workspaces";

export const paths = {
  workspace: (workspace: string) => `${API_PREFIX}/${encodeURIComponent(workspace)}`,
  models: () => "/models",
  runs: () => "/agent-runs",
  run: (runId: string) => `/agent-runs/${encodeURIComponent(runId)}`,
  runStream: (runId: string) => `/agent-runs/${encodeURIComponent(runId)}/stream`,
  runToolResults: (runId: string) => `/agent-runs/${encodeURIComponent(runId)}/tool-results`,
  runCancel: (runId: string) => `/agent-runs/${encodeURIComponent(runId)}/cancel`,
  runContinue: (runId: string) => `/agent-runs/${encodeURIComponent(runId)}/continue`,
  sessions: () => "/agent-sessions",
  session: (sessionId: string) => `/agent-sessions/${encodeURIComponent(sessionId)}`,
  sessionMessages: (sessionId: string) => `/agent-sessions/${encodeURIComponent(sessionId)}/messages`,
} as const;

/** Request headers with a meaning to agentd. */
export const headers = {
  apiKey: "x-api-key",
  authorization: "authorization",
  lastEventId: "last-event-id",
  requestId: "x-request-id",
} as const;

/** Query parameter for replay from a cursor on the stream endpoint. */
export const LAST_SEQ_QUERY = "lastSeq";

/** API keys look like `agd_<workspace-agnostic random>`; the prefix makes leaked keys greppable. */
export const API_KEY_PREFIX = "agd_";

/**
 * Names on the wire that are not paths: the API's prefix, the request headers
 * with a meaning to agentd, the stream's replay parameter. The paths
 * themselves are the route table's (routes/).
 */
export const API_PREFIX = "/api/v1/workspaces";

/** Request headers with a meaning to agentd, lower-cased as node:http and fetch's Headers give them. */
export const headers = {
  apiKey: "x-api-key",
  authorization: "authorization",
  idempotencyKey: "idempotency-key",
  lastEventId: "last-event-id",
  requestId: "x-request-id",
} as const;

/** Query parameter for replay from a cursor on the stream endpoint. */
export const LAST_SEQ_QUERY = "lastSeq";

/** API keys look like `agd_<workspace-agnostic random>`; the prefix makes leaked keys greppable. */
export const API_KEY_PREFIX = "agd_";

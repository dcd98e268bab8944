import { IDEMPOTENCY_KEY } from "./headers.js";
import { pathParameters, type RouteDeclaration } from "./route.js";

/**
 * Every error status a route can answer with: the ones it declares plus the
 * ones its shape implies, so that the document lists each response a client
 * must handle and a new route cannot forget one.
 * - 400: a path parameter that is not valid percent-encoding, a query, a body, an Idempotency-Key
 * - 401 and 404: `auth: "key"` (no or a revoked key; a key of another workspace, so keys cannot probe workspaces)
 * - 403: a `scope` (the key lacks it), and the agent allowlist of runs and sessions
 * - 413 and 415: a body (too large, not JSON)
 * - 409 and 422: an Idempotency-Key still in progress elsewhere, or reused with another request
 * - 500 (with a request id, never the cause) and 503 with Retry-After (shutting down, the store away): any route
 */
export function errorStatuses(route: RouteDeclaration): number[] {
  const statuses = new Set<number>(route.errors ?? []);
  if (pathParameters(route.path).length > 0 || route.query || route.body) statuses.add(400);
  if (route.auth === "key") statuses.add(401).add(404);
  if (route.scope) statuses.add(403);
  if (route.body) statuses.add(413).add(415);
  if (route.headers?.includes(IDEMPOTENCY_KEY)) statuses.add(400).add(409).add(422);
  statuses.add(500).add(503);
  return [...statuses].sort((a, b) => a - b);
}

/** What each error status means across the API; the document's reusable responses. */
export const ERROR_RESPONSES: Record<number, { name: string; description: string; retryAfter?: boolean }> = {
  400: { name: "BadRequest", description: "The request is malformed; `issues` names each field" },
  401: { name: "Unauthorized", description: "No API key, or one that is unknown, revoked or expired" },
  403: { name: "Forbidden", description: "The key lacks the route's scope, or may not run this agent" },
  404: { name: "NotFound", description: "No such resource in this workspace (or the key is another workspace's)" },
  409: { name: "Conflict", description: "The resource's state does not allow this now" },
  413: { name: "PayloadTooLarge", description: "The body is larger than the server's limit" },
  415: { name: "UnsupportedMediaType", description: "The body is not application/json" },
  422: { name: "IdempotencyKeyReused", description: "This Idempotency-Key was used for another request" },
  429: { name: "TooManyRequests", description: "A limit of the workspace is reached; retry after `Retry-After` seconds", retryAfter: true },
  500: { name: "InternalError", description: "An unexpected error; the body carries the request id, not the cause" },
  503: {
    name: "Unavailable",
    description: "Shutting down, or the store or a worker is away; retry (after `Retry-After` seconds when sent)",
    retryAfter: true,
  },
};

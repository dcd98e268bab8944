import type { ServerResponse } from "node:http";

/** What a key's limits say about one request: a quota policy and where the key stands in it (draft-ietf-httpapi-ratelimit-headers-09). */
export interface LimitState {
  /** A `RateLimit-Policy` list member: `"tokens";q=1000;w=86400`. */
  policy: string;
  /** A `RateLimit` list member: `"tokens";r=200;t=3600`. */
  state: string;
}

/**
 * Adds one policy to the response's `RateLimit-Policy` and `RateLimit`
 * fields. Both are structured-field lists, so a request under several
 * limits (requests per minute, then tokens per day) names each, in order.
 */
export function addLimitHeaders(res: ServerResponse, { policy, state }: LimitState): void {
  append(res, "ratelimit-policy", policy);
  append(res, "ratelimit", state);
}

function append(res: ServerResponse, name: string, value: string): void {
  if (res.headersSent) return;
  const had = res.getHeader(name);
  res.setHeader(name, had === undefined ? value : `${String(had)}, ${value}`);
}

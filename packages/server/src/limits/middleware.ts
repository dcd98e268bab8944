import { AgentdError } from "../errors.js";
import type { Middleware } from "../http/context.js";
import { addLimitHeaders } from "./headers.js";
import type { RateLimiter } from "./rate-limiter.js";

/**
 * After auth, before the scope check: a key over its requests per minute
 * (its own limit, else the config's default for keys) gets 429
 * rate_limited, the error naming the limit, with Retry-After. Every answer
 * under a limit carries the IETF httpapi ratelimit headers
 * (draft-ietf-httpapi-ratelimit-headers-09): `RateLimit-Policy` (quota and
 * window) and `RateLimit` (what remains, and when more comes).
 */
export function rateLimit(limiter: RateLimiter, defaultPerMinute: number | undefined): Middleware {
  return async (ctx, next) => {
    const key = ctx.key;
    const perMinute = key?.limits.requestsPerMinute ?? defaultPerMinute;
    if (!key || perMinute === undefined) return next();
    const decision = await limiter.take(key.id, perMinute);
    addLimitHeaders(ctx.res, {
      policy: `"requests";q=${perMinute};w=60`,
      state: `"requests";r=${decision.remaining};t=${decision.retryAfterSeconds}`,
    });
    if (!decision.allowed) {
      throw new AgentdError("rate_limited", `this API key made more than its ${perMinute} requests per minute (limit: requestsPerMinute)`, {
        retryAfterSeconds: Math.max(1, decision.retryAfterSeconds),
        hint: "Wait for Retry-After seconds, or raise the key's limits.requestsPerMinute (PATCH /keys/{keyId}).",
      });
    }
    return next();
  };
}

import type { Redis } from "ioredis";

/** What a rate limiter answers for one request of a key. */
export interface RateDecision {
  allowed: boolean;
  /** Whole requests left in the bucket after this one. */
  remaining: number;
  /** Seconds until a request would be allowed again (0 when one is now). */
  retryAfterSeconds: number;
}

/**
 * Requests per minute per key (issue #12): a token bucket of `perMinute`
 * tokens refilled evenly over a minute, so a key may burst up to its
 * limit and then gets one request every 60/perMinute seconds. Embedded:
 * in this process; in a cluster: in Redis, so every worker takes from the
 * same bucket (one round trip per request).
 */
export interface RateLimiter {
  take(keyId: string, perMinute: number): Promise<RateDecision> | RateDecision;
  close(): Promise<void>;
}

/** Most buckets kept in memory; past it, the full ones (idle keys) go first. */
const MAX_BUCKETS = 100_000;

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  take(keyId: string, perMinute: number): RateDecision {
    const now = this.now();
    const perMs = perMinute / 60_000;
    const bucket = this.buckets.get(keyId) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    if (!this.buckets.has(keyId) && this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
    this.buckets.set(keyId, bucket);
    return decision(allowed, bucket.tokens, perMs);
  }

  async close(): Promise<void> {}
}

/*
 * The same bucket as one Lua script, atomic on the Redis server, timed by
 * Redis's own clock (TIME) so workers' clocks do not matter. State: a hash
 * of tokens and the last refill (ms), expiring once it would be full again.
 */
const TAKE = `
local perMinute = tonumber(ARGV[1])
local perMs = perMinute / 60000
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or perMinute
local at = tonumber(state[2]) or now
tokens = math.min(perMinute, tokens + math.max(0, now - at) * perMs)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return {allowed, tostring(tokens)}
`;

type WithTake = Redis & { agentdTakeToken(key: string, perMinute: number): Promise<[number, string]> };

/** Connects on the first limited request: a cluster whose keys have no limits holds no connection for it. */
export class RedisRateLimiter implements RateLimiter {
  private redis: WithTake | undefined;

  constructor(
    private readonly connect: () => Redis,
    private readonly prefix: string,
  ) {}

  async take(keyId: string, perMinute: number): Promise<RateDecision> {
    if (!this.redis) {
      const redis = this.connect();
      redis.defineCommand("agentdTakeToken", { numberOfKeys: 1, lua: TAKE });
      this.redis = redis as WithTake;
    }
    const [allowed, tokens] = await this.redis.agentdTakeToken(`${this.prefix}ratelimit:${keyId}`, perMinute);
    return decision(allowed === 1, Number(tokens), perMinute / 60_000);
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}

function decision(allowed: boolean, tokens: number, perMs: number): RateDecision {
  return { allowed, remaining: Math.floor(tokens), retryAfterSeconds: tokens >= 1 ? 0 : Math.ceil((1 - tokens) / perMs / 1000) };
}

import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { AgentdError } from "../errors.js";
import type { LimitState } from "./headers.js";

/** What a stream limiter answers for one stream of a key: a slot to release when it closes, or none (over the limit). */
export interface StreamGrant {
  /** Undefined: the key has `limit` streams open already. */
  release: (() => void) | undefined;
  /** Streams of the key open now, this one included when granted. */
  open: number;
}

/**
 * A key's open event streams (issue #12, `limits.openStreams`): a counting
 * semaphore per key. Embedded: in this process. In a cluster: in Redis, so
 * every worker counts the same streams (one round trip to open, one to
 * close).
 */
export interface StreamLimiter {
  acquire(keyId: string, limit: number): Promise<StreamGrant> | StreamGrant;
  close(): Promise<void>;
}

export class MemoryStreamLimiter implements StreamLimiter {
  private readonly open = new Map<string, number>();

  acquire(keyId: string, limit: number): StreamGrant {
    const open = this.open.get(keyId) ?? 0;
    if (open >= limit) return { release: undefined, open };
    this.open.set(keyId, open + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const left = (this.open.get(keyId) ?? 1) - 1;
      if (left > 0) this.open.set(keyId, left);
      else this.open.delete(keyId);
    };
    return { release, open: open + 1 };
  }

  async close(): Promise<void> {}
}

/*
 * A key's open streams as a sorted set in Redis: one member per stream
 * (this worker's id, a nonce of this process, a counter), scored with when
 * it expires by Redis's clock. Opening drops the expired members, counts
 * the rest and adds one if under the limit, in one atomic script; closing
 * removes the member. While a stream is open its worker pushes its expiry
 * forward every TTL/3, so a worker that dies (kill -9, a lost host) frees
 * its streams' slots within TTL instead of holding them forever, and a
 * live one never loses them.
 */
const ACQUIRE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZCARD', KEYS[1])
if open >= tonumber(ARGV[1]) then return {0, open} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, open + 1}
`;

/** ARGV: ttl, then the members this worker holds in the key: each pushed forward, if still there (XX). */
const REFRESH = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 0
`;

type WithScripts = Redis & {
  agentdAcquireStream(key: string, limit: number, member: string, ttlMs: number): Promise<[number, number]>;
  agentdRefreshStreams(key: string, ttlMs: number, ...members: string[]): Promise<number>;
};

/** Connects on the first limited stream: a cluster whose keys have no stream limit holds no connection for it. */
export class RedisStreamLimiter implements StreamLimiter {
  private redis: WithScripts | undefined;
  private readonly nonce = randomBytes(6).toString("base64url");
  private counter = 0;
  /** Members this process holds, by Redis key. */
  private readonly held = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connect: () => Redis,
    private readonly prefix: string,
    private readonly workerId: string,
    /** How long a slot outlives its worker's last refresh. */
    private readonly ttlMs = 30_000,
  ) {}

  async acquire(keyId: string, limit: number): Promise<StreamGrant> {
    const redis = this.client();
    const key = `${this.prefix}streams:${keyId}`;
    const member = `${this.workerId}:${this.nonce}:${++this.counter}`;
    let answer: [number, number];
    try {
      answer = await redis.agentdAcquireStream(key, limit, member, this.ttlMs);
    } catch (error) {
      throw new AgentdError("unavailable", "the stream limit could not be checked (Redis did not answer); retry shortly", {
        retryAfterSeconds: 1,
        cause: error,
      });
    }
    const [granted, open] = answer;
    if (granted !== 1) return { release: undefined, open };
    let members = this.held.get(key);
    if (members === undefined) this.held.set(key, (members = new Set()));
    members.add(member);
    this.timer ??= setInterval(() => this.refresh(), Math.max(100, Math.floor(this.ttlMs / 3))).unref();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      members.delete(member);
      if (members.size === 0 && this.held.get(key) === members) this.held.delete(key);
      if (this.held.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
      // Lost if Redis is away: the member then expires within the TTL.
      redis.zrem(key, member).catch(() => undefined);
    };
    return { release, open };
  }

  private refresh(): void {
    if (!this.redis) return;
    const pipeline = this.redis.pipeline() as unknown as {
      agentdRefreshStreams(key: string, ttlMs: number, ...members: string[]): void;
      exec(): Promise<unknown>;
    };
    for (const [key, members] of this.held) pipeline.agentdRefreshStreams(key, this.ttlMs, ...members);
    pipeline.exec().catch(() => undefined);
  }

  private client(): WithScripts {
    if (!this.redis) {
      const redis = this.connect();
      redis.defineCommand("agentdAcquireStream", { numberOfKeys: 1, lua: ACQUIRE });
      redis.defineCommand("agentdRefreshStreams", { numberOfKeys: 1, lua: REFRESH });
      this.redis = redis as WithScripts;
    }
    return this.redis;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const redis = this.redis;
    if (!redis) return;
    // QUIT after the releases already sent (the streams end before this), at most a second; what does not get there expires.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([redis.quit().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
    clearTimeout(timer);
    redis.disconnect();
  }
}

/**
 * Before an event stream starts: a key over its open streams (its own
 * limit, else the config's default) gets 429 rate_limited naming
 * `openStreams`, with Retry-After and RateLimit headers; undefined when no
 * limit applies (nothing counted, no round trip). The caller releases the
 * slot when the stream is over, however it ended.
 */
export function openStream(
  limiter: StreamLimiter,
  key: { id: string; limits: { openStreams?: number | undefined } } | undefined,
  defaultLimit: number | undefined,
  report: (state: LimitState) => void,
): Promise<() => void> | undefined {
  const limit = key?.limits.openStreams ?? defaultLimit;
  if (key === undefined || limit === undefined) return undefined;
  return Promise.resolve(limiter.acquire(key.id, limit)).then(({ release, open }) => {
    const policy = `"streams";q=${limit};qu="concurrent-requests"`;
    if (release === undefined) {
      report({ policy, state: `"streams";r=0;t=1` });
      throw new AgentdError("rate_limited", `this API key has ${open} event streams open, its limit is ${limit} (limit: openStreams)`, {
        retryAfterSeconds: 1,
        hint: "Close a stream first (a stream ends with its run's last event), or raise the key's limits.openStreams (PATCH /keys/{keyId}).",
      });
    }
    report({ policy, state: `"streams";r=${Math.max(0, limit - open)}` });
    return release;
  });
}

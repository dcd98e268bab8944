import { z } from "zod";

/*
 * API keys managed over the API (issue #12, docs/security.md): what a key
 * may do (its scopes), which agents it may run, and when it stops working.
 */

/**
 * What a key may do. A route declares the one it needs (`scope` in
 * routes/route.ts); `*` is every scope, today's and later ones.
 */
export const KEY_SCOPES = ["runs:write", "runs:read", "agents:write", "agents:read", "memory:write", "memory:read", "keys:admin"] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];
export const KeyScopeOrAll = z.enum([...KEY_SCOPES, "*"]);
export type KeyScopeOrAll = z.infer<typeof KeyScopeOrAll>;

/**
 * The scopes of a key created over the API without `scopes`: what an
 * application needs to run agents and read what they did, nothing that
 * changes agents or keys (least privilege; `agentd keys create` makes `*` keys).
 */
export const DEFAULT_KEY_SCOPES: readonly KeyScope[] = ["runs:write", "runs:read", "agents:read", "memory:write", "memory:read"];

/** At most this many agents in a key's allowlist. */
export const MAX_KEY_AGENTS = 100;

const KeyName = z.string().trim().min(1, "must not be empty").max(100);
const Scopes = z
  .array(KeyScopeOrAll)
  .min(1, "a key needs at least one scope")
  .max(KEY_SCOPES.length + 1)
  .refine((scopes) => new Set(scopes).size === scopes.length, "lists a scope twice");
/** Agent ids (registry or config) the key may run; empty: every agent. */
const Agents = z
  .array(z.string().min(1).max(128))
  .max(MAX_KEY_AGENTS)
  .refine((agents) => new Set(agents).size === agents.length, "lists an agent twice");

/**
 * A key's own limits (issue #12); each absent one is the config's default
 * for keys (`limits.key…`), else none. Past one: 429 rate_limited naming it,
 * with Retry-After and RateLimit headers; every worker of a cluster
 * enforces them together (docs/security.md "Limits").
 * - `requestsPerMinute`: a token bucket of that many requests, refilled evenly over a minute.
 * - `concurrentRuns`: runs of the key queued or running at once (paused ones hold no slot and do not count).
 * - `tokensPerDay`: model tokens (input + output) of the key's runs created in one UTC day, checked before a run starts.
 * - `openStreams`: event streams of the key open at once.
 */
export const KeyLimits = z.strictObject({
  requestsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
  concurrentRuns: z.number().int().min(1).max(1_000_000).optional(),
  tokensPerDay: z.number().int().min(1).max(1_000_000_000_000).optional(),
  openStreams: z.number().int().min(1).max(1_000_000).optional(),
});
export type KeyLimits = z.infer<typeof KeyLimits>;

/** `POST /keys`. */
export const CreateKeyRequest = z.strictObject({
  name: KeyName,
  scopes: Scopes.optional(),
  agents: Agents.optional(),
  /** ISO 8601 with an offset; must lie in the future. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  limits: KeyLimits.optional(),
});
export type CreateKeyRequest = z.infer<typeof CreateKeyRequest>;

/** `PATCH /keys/{keyId}`: what may change on a key (never its secret or workspace); at least one field. */
export const UpdateKeyRequest = z
  .strictObject({ name: KeyName.optional(), scopes: Scopes.optional(), agents: Agents.optional(), limits: KeyLimits.optional() })
  .refine((body) => Object.keys(body).length > 0, "send at least one of name, scopes, agents, limits");
export type UpdateKeyRequest = z.infer<typeof UpdateKeyRequest>;

/** A key as the API shows it: never its secret, which exists only in the creating response. */
export const KeyInfo = z.object({
  id: z.string(),
  name: z.string(),
  /** The key's first characters (`agd_AbC1`), to recognise it by. */
  displayPrefix: z.string(),
  scopes: z.array(KeyScopeOrAll),
  /** Empty: every agent. */
  agents: z.array(z.string()),
  expiresAt: z.string().nullable(),
  /** Its own limits; `{}` when it has none (the config's defaults apply). */
  limits: z.object({
    requestsPerMinute: z.number().int().optional(),
    concurrentRuns: z.number().int().optional(),
    tokensPerDay: z.number().int().optional(),
    openStreams: z.number().int().optional(),
  }),
  createdAt: z.string(),
  /** Updated at most once a minute. */
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type KeyInfo = z.infer<typeof KeyInfo>;

/** `POST /keys` → 201: the key itself, shown here and never again. */
export const CreateKeyResponse = KeyInfo.extend({ key: z.string() });
export type CreateKeyResponse = z.infer<typeof CreateKeyResponse>;

export const ListKeysResponse = z.object({ keys: z.array(KeyInfo) });
export type ListKeysResponse = z.infer<typeof ListKeysResponse>;

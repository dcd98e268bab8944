import { createHash } from "node:crypto";
import { expect } from "vitest";
import type { Store } from "../../src/store/types.js";

/*
 * The migration that replaces idempotency keys stored as sent (before issue
 * #8) by their SHA-256, shared by the SQLite and PostgreSQL tests: keys are
 * written through the store as the old HTTP layer did (as sent), the schema
 * is rewound by the caller, and after reopening only digests remain, each
 * with its reply.
 */

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
const SCOPE = "/api/v1/workspaces/acme/agent-runs";
const begin = { fingerprint: "fp", ttlMs: 3_600_000, lockMs: 60_000 };

/** What old agentd stored: keys as sent, done with a reply; one of them, oddly, the digest of another (a client using digests as keys). */
export async function storeRawIdempotencyKeys(store: Store, workspaceId: string): Promise<void> {
  const keys = ["secret-value-123", "ünïcode key", sha256("collides"), "collides"];
  for (const [index, key] of keys.entries()) {
    const hold = { workspaceId, scope: SCOPE, key, token: `t${index}` };
    expect(await store.beginIdempotent({ ...hold, ...begin })).toEqual({ state: "new" });
    expect(await store.finishIdempotent(hold, { status: 202, body: { runId: `run_${index}` } })).toBe(true);
  }
}

/** After the migration: each key found by its digest (as the HTTP layer now asks), with its reply. */
export async function expectDigestedIdempotencyKeys(store: Store, workspaceId: string): Promise<void> {
  const lookUp = (key: string) => store.beginIdempotent({ workspaceId, scope: SCOPE, key, token: "probe", ...begin });
  expect(await lookUp(sha256("secret-value-123"))).toEqual({ state: "done", status: 202, body: { runId: "run_0" } });
  expect(await lookUp(sha256("ünïcode key"))).toEqual({ state: "done", status: 202, body: { runId: "run_1" } });
  // The pair that would have collided: the row whose key was the other's digest keeps its reply under its own digest.
  expect(await lookUp(sha256(sha256("collides")))).toEqual({ state: "done", status: 202, body: { runId: "run_2" } });
  // The rows left are digests only (the callers also look for the value sent in the table itself).
  expect(await lookUp("collides")).toEqual({ state: "new" });
}

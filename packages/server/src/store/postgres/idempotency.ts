import type { QueryResult } from "pg";
import type { IdempotencyBegin, IdempotencyHold, IdempotencyState } from "../types.js";
import type { Statement } from "./connection.js";
import { CLOCK } from "./leases.js";

/*
 * Idempotency keys (migration 4), on the database server's clock, as leases:
 * the workers sharing a key run on many machines.
 */

const KEY = "workspace_id = $1 AND scope = $2 AND key = $3";

export function idempotencyStatements(s: string) {
  const named =
    (name: string, text: string) =>
    (values: unknown[]): Statement => ({ name: `agentd_${name}`, text, values });
  return {
    /**
     * Takes the key for this attempt if it is absent, expired, or pending
     * since `lockMs` or longer; returns a row only then. ON CONFLICT sees a
     * row inserted by a concurrent transaction (it waits for it), so of
     * concurrent attempts exactly one takes the key. $4 fingerprint, $5
     * token, $6 ttlMs, $7 lockMs.
     */
    take: named(
      "idempotency_take",
      `WITH ${CLOCK}
       INSERT INTO ${s}.idempotency_keys AS k (workspace_id, scope, key, state, fingerprint, token, created_at, expires_at)
       SELECT $1, $2, $3, 'pending', $4, $5, clock.now_ms, clock.now_ms + $6::bigint FROM clock
       ON CONFLICT (workspace_id, scope, key) DO UPDATE
       SET state = 'pending', fingerprint = EXCLUDED.fingerprint, token = EXCLUDED.token, status = NULL, body = NULL,
           created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
       WHERE k.expires_at <= EXCLUDED.created_at OR (k.state = 'pending' AND k.created_at <= EXCLUDED.created_at - $7::bigint)
       RETURNING 1`,
    ),
    /**
     * The key as it is, read right after `take` in the same round trip: a
     * statement of its own, so its snapshot (READ COMMITTED) sees the row
     * `take` conflicted with even if that row was committed after `take` began.
     */
    find: named("idempotency_find", `SELECT state, fingerprint, status, body FROM ${s}.idempotency_keys WHERE ${KEY}`),
    // $4 token, $5 status, $6 body
    finish: named(
      "idempotency_finish",
      `UPDATE ${s}.idempotency_keys SET state = 'done', status = $5, body = $6 WHERE ${KEY} AND token = $4 AND state = 'pending' RETURNING 1`,
    ),
    abandon: named(
      "idempotency_abandon",
      `DELETE FROM ${s}.idempotency_keys WHERE ${KEY} AND token = $4 AND state = 'pending' RETURNING 1`,
    ),
    // Served by idempotency_keys_expires. SKIP LOCKED: two workers purging at
    // once share the work instead of waiting for each other; a row a begin is
    // taking over is left to it (FOR UPDATE re-checks expires_at on the row
    // as that begin left it).
    purge: named(
      "idempotency_purge",
      `WITH ${CLOCK}, expired AS (
         SELECT workspace_id, scope, key FROM ${s}.idempotency_keys WHERE expires_at <= (SELECT now_ms FROM clock)
         ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED),
       deleted AS (
         DELETE FROM ${s}.idempotency_keys k USING expired e
         WHERE k.workspace_id = e.workspace_id AND k.scope = e.scope AND k.key = e.key RETURNING 1)
       SELECT count(*)::integer AS count FROM deleted`,
    ),
  };
}

export type IdempotencyStatements = ReturnType<typeof idempotencyStatements>;

interface KeyRow {
  state: "pending" | "done";
  fingerprint: string;
  status: number | null;
  body: string | null;
}

/** A key deleted between `take` and `find` (its attempt failed) is looked at again, this many times at most. */
const ATTEMPTS = 5;

/** The Store's idempotency methods; `send` sends statements back to back on one pooled connection. */
export class PostgresIdempotency {
  constructor(
    private readonly sql: IdempotencyStatements,
    private readonly send: (statements: Statement[]) => Promise<QueryResult[]>,
  ) {}

  async begin(request: IdempotencyBegin): Promise<IdempotencyState> {
    const { workspaceId, scope, key, fingerprint, token } = request;
    const take = this.sql.take([workspaceId, scope, key, fingerprint, token, Math.ceil(request.ttlMs), Math.ceil(request.lockMs)]);
    const find = this.sql.find([workspaceId, scope, key]);
    for (let attempt = 1; ; attempt++) {
      // One round trip; in autocommit each statement is its own transaction.
      const [taken, found] = await this.send([take, find]);
      if (taken!.rows.length > 0) return { state: "new" };
      const row = found!.rows[0] as KeyRow | undefined;
      if (row === undefined) {
        if (attempt < ATTEMPTS) continue;
        return { state: "pending" };
      }
      if (row.fingerprint !== fingerprint) return { state: "mismatch" };
      if (row.state === "done") return { state: "done", status: row.status!, body: JSON.parse(row.body!) };
      return { state: "pending" };
    }
  }

  async finish(hold: IdempotencyHold, reply: { status: number; body: unknown }): Promise<boolean> {
    const body = JSON.stringify(reply.body) ?? "null";
    const [result] = await this.send([this.sql.finish([hold.workspaceId, hold.scope, hold.key, hold.token, reply.status, body])]);
    return result!.rows.length > 0;
  }

  async abandon(hold: IdempotencyHold): Promise<boolean> {
    const [result] = await this.send([this.sql.abandon([hold.workspaceId, hold.scope, hold.key, hold.token])]);
    return result!.rows.length > 0;
  }

  async purge(limit: number): Promise<number> {
    if (!(limit >= 1)) return 0;
    const [result] = await this.send([this.sql.purge([Math.floor(limit)])]);
    return (result!.rows[0] as { count: number }).count;
  }
}

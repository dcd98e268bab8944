import type Database from "better-sqlite3";
import type { IdempotencyBegin, IdempotencyHold, IdempotencyState } from "../types.js";

/*
 * Idempotency keys (migration 5) on the embedded store. "Now" is this
 * process's Date.now(), as for leases: every process opening the file runs
 * on one machine. `begin` reads and writes in one IMMEDIATE transaction, so
 * it is atomic also against other processes on the same file.
 */

interface KeyRow {
  state: "pending" | "done";
  fingerprint: string;
  status: number | null;
  body: string | null;
  createdAt: number;
  expiresAt: number;
}

const KEY = "workspace_id = @workspaceId AND scope = @scope AND key = @key";

export class SqliteIdempotency {
  readonly #begin: (request: IdempotencyBegin) => IdempotencyState;
  readonly #finish;
  readonly #abandon;
  readonly #purge;

  constructor(db: Database.Database) {
    const find = db.prepare<[IdempotencyBegin], KeyRow>(
      `SELECT state, fingerprint, status, body, created_at AS createdAt, expires_at AS expiresAt FROM idempotency_keys WHERE ${KEY}`,
    );
    const take = db.prepare<[IdempotencyBegin & { now: number }]>(
      `INSERT OR REPLACE INTO idempotency_keys (workspace_id, scope, key, state, fingerprint, token, status, body, created_at, expires_at)
       VALUES (@workspaceId, @scope, @key, 'pending', @fingerprint, @token, NULL, NULL, @now, @now + @ttlMs)`,
    );
    const begin = db.transaction((request: IdempotencyBegin, now: number): IdempotencyState => {
      const row = find.get(request);
      // Absent, expired, or pending so long that its holder is presumed dead: this attempt takes it.
      if (row === undefined || row.expiresAt <= now || (row.state === "pending" && row.createdAt + request.lockMs <= now)) {
        take.run({ ...request, now });
        return { state: "new" };
      }
      if (row.fingerprint !== request.fingerprint) return { state: "mismatch" };
      if (row.state === "done") return { state: "done", status: row.status!, body: JSON.parse(row.body!) };
      return { state: "pending" };
    });
    this.#begin = (request) =>
      begin.immediate({ ...request, ttlMs: Math.ceil(request.ttlMs), lockMs: Math.ceil(request.lockMs) }, Date.now());
    this.#finish = db.prepare<[IdempotencyHold & { status: number; body: string }]>(
      `UPDATE idempotency_keys SET state = 'done', status = @status, body = @body WHERE ${KEY} AND token = @token AND state = 'pending'`,
    );
    this.#abandon = db.prepare<[IdempotencyHold]>(`DELETE FROM idempotency_keys WHERE ${KEY} AND token = @token AND state = 'pending'`);
    this.#purge = db.prepare<[now: number, limit: number]>(
      `DELETE FROM idempotency_keys WHERE (workspace_id, scope, key) IN
         (SELECT workspace_id, scope, key FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
    );
  }

  begin(request: IdempotencyBegin): IdempotencyState {
    return this.#begin(request);
  }

  finish(hold: IdempotencyHold, reply: { status: number; body: unknown }): boolean {
    const { workspaceId, scope, key, token } = hold;
    const body = JSON.stringify(reply.body) ?? "null";
    return this.#finish.run({ workspaceId, scope, key, token, status: reply.status, body }).changes > 0;
  }

  abandon(hold: IdempotencyHold): boolean {
    const { workspaceId, scope, key, token } = hold;
    return this.#abandon.run({ workspaceId, scope, key, token }).changes > 0;
  }

  purge(limit: number): number {
    if (!(limit >= 1)) return 0;
    return this.#purge.run(Date.now(), Math.floor(limit)).changes;
  }
}

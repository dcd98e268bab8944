import type Database from "better-sqlite3";
import { uniqueFences, type Fence } from "../sql/fences.js";
import type { Lease, RunRecord } from "../types.js";
import { RUNS } from "../schema/tables.js";

/*
 * Leases (issue #4) on the embedded store. "Now" is this process's
 * Date.now(), passed into each statement: a SQLite file is on one machine,
 * so every process that opens it reads the same clock (PostgreSQL uses the
 * database server's clock instead, as workers there run on many machines).
 * Each operation is one statement, so it is atomic under SQLite's single
 * write lock, also against other processes on the same file.
 */

/** Runs that are executing or waiting to: a plain claim takes only these, and only these can be orphans. Ended runs hold no lease. */
const LIVE = "status IN ('queued', 'running')";
/** What a claim accepts: live runs, and paused ones when the claim asks for them (@paused = 1). */
const CLAIMABLE = `(${LIVE} OR (@paused = 1 AND status = 'paused'))`;

export class SqliteLeases {
  readonly #claim;
  readonly #renew;
  readonly #release;
  readonly #orphaned;
  readonly #holder;

  constructor(db: Database.Database) {
    // RETURNING gives the row as this UPDATE left it: no read-then-write
    // race, and the caller resumes from exactly the state it leased.
    this.#claim = db.prepare<
      [{ runId: string; workerId: string; now: number; leaseMs: number; paused: 0 | 1 }],
      object & { epoch: number; expiresAt: number }
    >(
      `UPDATE runs SET owner_id = @workerId, lease_epoch = lease_epoch + 1, lease_expires_at = @now + @leaseMs
       WHERE id = @runId AND ${CLAIMABLE} AND (owner_id IS NULL OR lease_expires_at < @now OR owner_id = @workerId)
       RETURNING lease_epoch AS epoch, lease_expires_at AS "expiresAt", ${RUNS.select}`,
    );
    // All of a worker's leases in one statement: the pairs are bound as a JSON array.
    this.#renew = db
      .prepare<[{ workerId: string; leases: string; now: number; leaseMs: number }], string>(
        `UPDATE runs SET lease_expires_at = @now + @leaseMs
         WHERE owner_id = @workerId AND (id, lease_epoch) IN
           (SELECT value ->> '$.runId', value ->> '$.epoch' FROM json_each(@leases))
         RETURNING id`,
      )
      .pluck();
    this.#release = db.prepare<[runId: string, workerId: string, epoch: number]>(
      "UPDATE runs SET owner_id = NULL, lease_expires_at = NULL WHERE id = ? AND owner_id = ? AND lease_epoch = ?",
    );
    // Walks runs_live_created (migration 3) in order and stops at `limit`:
    // the oldest live runs are the likeliest orphans. Named, because without
    // statistics SQLite prefers runs_status and then sorts every live run
    // (a queue backlog included). The WHERE repeats the index's condition
    // word for word, which is how SQLite matches a partial index.
    this.#orphaned = db.prepare<[{ now: number; cutoff: string; limit: number }], { runId: string; workspaceId: string }>(
      `SELECT id AS runId, workspace_id AS workspaceId FROM runs INDEXED BY runs_live_created
       WHERE ${LIVE} AND (lease_expires_at < @now OR (owner_id IS NULL AND created_at < @cutoff))
       ORDER BY created_at, rowid LIMIT @limit`,
    );
    this.#holder = db.prepare<[runId: string], { ownerId: string | null; epoch: number }>(
      "SELECT owner_id AS ownerId, lease_epoch AS epoch FROM runs WHERE id = ?",
    );
  }

  claim(runId: string, workerId: string, leaseMs: number, paused: boolean): { lease: Lease; record: RunRecord } | undefined {
    const row = this.#claim.get({ runId, workerId, now: Date.now(), leaseMs: Math.ceil(leaseMs), paused: paused ? 1 : 0 });
    if (row === undefined) return undefined;
    const { epoch, expiresAt, ...run } = row;
    return { lease: { runId, workerId, epoch, expiresAt }, record: RUNS.fromRow(run) };
  }

  /** The runIds of `leases` this worker holds no longer. */
  renew(workerId: string, leases: Array<{ runId: string; epoch: number }>, leaseMs: number): string[] {
    if (leases.length === 0) return [];
    const renewed = new Set(this.#renew.all({ workerId, leases: JSON.stringify(leases), now: Date.now(), leaseMs: Math.ceil(leaseMs) }));
    return [...new Set(leases.map((lease) => lease.runId))].filter((runId) => !renewed.has(runId));
  }

  release(runId: string, workerId: string, epoch: number): boolean {
    return this.#release.run(runId, workerId, epoch).changes > 0;
  }

  orphaned(limit: number, unownedForMs: number): Array<{ runId: string; workspaceId: string }> {
    if (!(limit >= 1)) return [];
    const now = Date.now();
    return this.#orphaned.all({ now, cutoff: new Date(now - unownedForMs).toISOString(), limit: Math.floor(limit) });
  }

  /**
   * The fenced runs: those whose lease is no longer (workerId, epoch). Must
   * run inside the commit's write transaction (BEGIN IMMEDIATE): no other
   * connection can claim between this read and the writes it guards. A
   * missing run holds no lease, so it is fenced too. A run listed twice
   * with different leases is a caller bug (TypeError, the batch rolls back).
   */
  fenced(fences: Fence[]): string[] {
    return uniqueFences(fences)
      .filter(({ runId, workerId, epoch }) => {
        const holder = this.#holder.get(runId);
        return holder?.ownerId !== workerId || holder.epoch !== epoch;
      })
      .map((fence) => fence.runId);
  }
}

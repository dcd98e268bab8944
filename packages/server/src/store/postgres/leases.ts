import type { Fence } from "../sql/fences.js";
import type { Lease, RunRecord } from "../types.js";
import type { Statement } from "./connection.js";
import { RUNS } from "../schema/tables.js";

/*
 * Leases (issue #4). Every operation is one statement, so it is atomic
 * without a read-then-write race: concurrent claims of one run queue on its
 * row lock, and each re-checks its WHERE against the row the previous one
 * left (READ COMMITTED), so exactly one wins.
 */

/**
 * "Now", epoch milliseconds, from the database server's clock: one clock for
 * all workers, whatever machine each runs on. clock_timestamp(), not now(),
 * which is frozen at the start of the transaction. A MATERIALIZED CTE reads
 * it once per statement (as a join input it would be re-read per row).
 */
export const CLOCK = `clock AS MATERIALIZED (SELECT t, (extract(epoch from t) * 1000)::bigint AS now_ms FROM clock_timestamp() AS t)`;

/** Runs that are executing or waiting to: a plain claim takes only these, and only these can be orphans. Ended runs hold no lease. */
const LIVE = "status IN ('queued', 'running')";
/** What a claim accepts: live runs, and paused ones when the claim asks for them ($4). */
const CLAIMABLE = `(${LIVE} OR ($4::boolean AND status = 'paused'))`;

export function leaseStatements(s: string) {
  const named =
    (name: string, text: string) =>
    (values: unknown[]): Statement => ({ name: `agentd_${name}`, text, values });
  return {
    claim: named(
      "claim_run",
      `WITH ${CLOCK}
       UPDATE ${s}.runs SET owner_id = $2, lease_epoch = lease_epoch + 1, lease_expires_at = clock.now_ms + $3::bigint
       FROM clock
       WHERE id = $1 AND ${CLAIMABLE} AND (owner_id IS NULL OR lease_expires_at < clock.now_ms OR owner_id = $2)
       RETURNING lease_epoch AS epoch, lease_expires_at AS "expiresAt", ${RUNS.select}`,
    ),
    // Rows are locked in id order, as `hold` locks a commit's fenced runs, so
    // a heartbeat and a commit of the same worker (two connections) wait for
    // each other instead of deadlocking.
    renew: named(
      "renew_leases",
      `WITH ${CLOCK}, held AS (
         SELECT r.id FROM ${s}.runs r JOIN unnest($2::text[], $3::integer[]) AS l(run_id, epoch) ON r.id = l.run_id
         WHERE r.owner_id = $1 AND r.lease_epoch = l.epoch ORDER BY r.id FOR NO KEY UPDATE OF r)
       UPDATE ${s}.runs SET lease_expires_at = clock.now_ms + $4::bigint FROM clock
       WHERE id IN (SELECT id FROM held) RETURNING id`,
    ),
    release: named(
      "release_run",
      `UPDATE ${s}.runs SET owner_id = NULL, lease_expires_at = NULL WHERE id = $1 AND owner_id = $2 AND lease_epoch = $3 RETURNING 1`,
    ),
    // Served by runs_live_created (migration 2), whose condition the WHERE
    // repeats. The cutoff is formatted as the records' createdAt is (ISO, UTC).
    orphaned: named(
      "orphaned_runs",
      `WITH ${CLOCK}, cutoff AS MATERIALIZED (
         SELECT to_char(t AT TIME ZONE 'UTC' - $2::float8 * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') COLLATE "C" AS created FROM clock)
       SELECT id AS "runId", workspace_id AS "workspaceId" FROM ${s}.runs, clock, cutoff
       WHERE ${LIVE} AND (lease_expires_at < clock.now_ms OR (owner_id IS NULL AND created_at < cutoff.created))
       ORDER BY created_at, created_order LIMIT $1`,
    ),
    /**
     * First statement of a fenced commit: locks the rows of the runs whose
     * lease is still (workerId, epoch) and returns their ids; the other
     * fenced runs are the zombies'. FOR NO KEY UPDATE conflicts with a
     * claim's UPDATE, so a claim waits for this commit, and a claim that got
     * there first is seen (the join re-checks the row it left). The later
     * statements of the batch re-check the same condition and get the same
     * answer: locked rows cannot change, and an epoch that moved on never
     * comes back.
     */
    hold: (fences: Fence[]): Statement =>
      named(
        "hold_leases",
        `SELECT r.id FROM ${s}.runs r
         JOIN unnest($1::text[], $2::text[], $3::integer[]) AS f(run_id, worker_id, epoch)
           ON r.id = f.run_id AND r.owner_id = f.worker_id AND r.lease_epoch = f.epoch
         ORDER BY r.id FOR NO KEY UPDATE OF r`,
      )(fenceArrays(fences)),
  };
}

/** Fences as three parallel arrays: $n runIds, $n+1 workerIds, $n+2 epochs. */
export const fenceArrays = (fences: Fence[]): unknown[] => [
  fences.map((fence) => fence.runId),
  fences.map((fence) => fence.workerId),
  fences.map((fence) => fence.epoch),
];

export type LeaseStatements = ReturnType<typeof leaseStatements>;

/** The Store's lease methods; `query` sends one statement on a pooled connection. */
export class PostgresLeases {
  constructor(
    private readonly sql: LeaseStatements,
    private readonly query: <R extends object>(statement: Statement) => Promise<R[]>,
  ) {}

  async claim(runId: string, workerId: string, leaseMs: number, paused: boolean): Promise<{ lease: Lease; record: RunRecord } | undefined> {
    // bigint arrives as a string (pg does not guess at precision).
    const [row] = await this.query<object & { epoch: number; expiresAt: string }>(
      this.sql.claim([runId, workerId, Math.ceil(leaseMs), paused]),
    );
    if (row === undefined) return undefined;
    const { epoch, expiresAt, ...run } = row;
    return { lease: { runId, workerId, epoch, expiresAt: Number(expiresAt) }, record: RUNS.fromRow(run) };
  }

  /** The runIds of `leases` this worker holds no longer. */
  async renew(workerId: string, leases: Array<{ runId: string; epoch: number }>, leaseMs: number): Promise<string[]> {
    if (leases.length === 0) return [];
    const runIds = leases.map((lease) => lease.runId);
    const statement = this.sql.renew([workerId, runIds, leases.map((lease) => lease.epoch), Math.ceil(leaseMs)]);
    const renewed = new Set((await this.query<{ id: string }>(statement)).map((row) => row.id));
    return [...new Set(runIds)].filter((runId) => !renewed.has(runId));
  }

  async release(runId: string, workerId: string, epoch: number): Promise<boolean> {
    return (await this.query(this.sql.release([runId, workerId, epoch]))).length > 0;
  }

  async orphaned(limit: number, unownedForMs: number): Promise<Array<{ runId: string; workspaceId: string }>> {
    if (!(limit >= 1)) return [];
    return this.query(this.sql.orphaned([Math.floor(limit), unownedForMs]));
  }
}

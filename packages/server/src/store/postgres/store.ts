import { escapeIdentifier, Pool, type PoolClient } from "pg";
import type { RunStatus } from "@agentd/protocol";
import { AgentdError } from "../../errors.js";
import { randomBase62 } from "../../ids.js";
import type {
  ActiveRunCounts,
  ApiKeyRecord,
  CommitBatch,
  CommitResult,
  IdempotencyBegin,
  IdempotencyHold,
  IdempotencyState,
  Lease,
  RunFilter,
  RunRecord,
  SessionPatch,
  SessionRecord,
  Store,
  StoredEvent,
  WorkspaceRecord,
} from "../types.js";
import { buildCommit } from "./commit.js";
import { BEGIN, COMMIT, rollback, rows, send, withClient, type Statement } from "./connection.js";
import { idempotencyStatements, PostgresIdempotency } from "./idempotency.js";
import { leaseStatements, PostgresLeases, type LeaseStatements } from "./leases.js";
import { listRunsStatement, type RunPage } from "./list.js";
import { migrate } from "./migrations.js";
import { lockWorker } from "./worker-lock.js";
import { runPatches, sessionPatches } from "./patches.js";
import { withoutNul } from "../schema/columns.js";
import { apiKeyFromRow, RUNS, SESSIONS, type ApiKeyRow } from "../schema/tables.js";
import { statements, type Statements } from "./statements.js";

export interface PostgresStoreOptions {
  /** Connection string, e.g. `postgres://agentd@db.internal:5432/agentd`. */
  databaseUrl: string;
  /** Schema holding agentd's tables, created if missing. Lower-case letters, digits, `_`. @default "agentd" */
  schema?: string;
  /** Most connections this store holds open at once. @default 10 */
  poolSize?: number;
  /** How long to wait for a connection before answering `unavailable`, in milliseconds. @default 5_000 */
  connectTimeoutMs?: number;
}

/**
 * The scale-out store: PostgreSQL through a `pg.Pool` in pipeline mode: the
 * statements of one call go out back to back, so a group commit (BEGIN,
 * writes, COMMIT) is one network round trip. Same semantics and errors as
 * SqliteStore; every instance pointing at one database shares its state.
 */
export class PostgresStore implements Store {
  readonly kind = "postgres";
  readonly #pool: Pool;
  readonly #schema: string;
  readonly #sql: Statements;
  readonly #leaseSql: LeaseStatements;
  readonly #leases: PostgresLeases;
  readonly #idempotency: PostgresIdempotency;
  readonly #runPatches;
  readonly #sessionPatches;
  #closed = false;

  private constructor(pool: Pool, quotedSchema: string) {
    this.#pool = pool;
    this.#schema = quotedSchema;
    this.#sql = statements(quotedSchema);
    this.#leaseSql = leaseStatements(quotedSchema);
    this.#leases = new PostgresLeases(this.#leaseSql, (statement) => this.#rows(statement));
    this.#idempotency = new PostgresIdempotency(idempotencyStatements(quotedSchema), (sent) => this.#use((client) => send(client, sent)));
    this.#runPatches = runPatches(quotedSchema);
    this.#sessionPatches = sessionPatches(quotedSchema);
  }

  /** Connects, brings the schema up to date (safe when many processes start at once) and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? "agentd";
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new TypeError(`invalid schema name "${schema}": use lower-case letters, digits and _`);
    const pool = new Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      pipeline: true,
    });
    // An idle connection the server drops (restart, idle timeout) is removed
    // by the pool and replaced on next use; without a listener the "error"
    // event would crash the process. Failures of work in progress surface on
    // the call that was using the connection.
    pool.on("error", () => undefined);
    const quotedSchema = escapeIdentifier(schema);
    try {
      await withClient(pool, (client) => migrate(client, quotedSchema, schema));
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStore(pool, quotedSchema);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  /** A session-level advisory lock on a connection of its own, held until released. */
  async lockWorker(): Promise<() => Promise<void>> {
    return lockWorker(this.#pool, this.#schema);
  }

  async ensureWorkspace(slug: string): Promise<WorkspaceRecord> {
    // Two statements, two snapshots: if another process inserts the slug at
    // the same moment, ON CONFLICT waits for it and the SELECT then sees it.
    const insert = this.#sql.insertWorkspace([`ws_${randomBase62(16)}`, slug, new Date().toISOString()]);
    const [, found] = await this.#use((client) => send(client, [insert, this.#sql.workspaceBySlug([slug])]));
    return found!.rows[0] as WorkspaceRecord;
  }

  async getWorkspaceBySlug(slug: string): Promise<WorkspaceRecord | undefined> {
    return (await this.#rows<WorkspaceRecord>(this.#sql.workspaceBySlug([slug])))[0];
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    const values = [key.id, key.workspaceId, key.name, key.displayPrefix, key.hash, key.createdAt, key.revokedAt];
    const violation = { duplicate: `api key ${key.id} already exists`, missingParent: `workspace ${key.workspaceId} not found` };
    await this.#rows({ ...this.#sql.insertApiKey(values), violation });
  }

  async findApiKeyByHash(hash: string): Promise<{ key: ApiKeyRecord; workspace: WorkspaceRecord } | undefined> {
    const [row] = await this.#rows<ApiKeyRow>(this.#sql.activeApiKeyByHash([hash]));
    return row === undefined ? undefined : apiKeyFromRow(row);
  }

  /** All keys, revoked ones included. */
  async countApiKeys(): Promise<number> {
    return (await this.#rows<{ count: number }>(this.#sql.countApiKeys([])))[0]!.count;
  }

  async listApiKeys(workspaceId?: string): Promise<Array<ApiKeyRecord & { workspaceSlug: string }>> {
    const statement = workspaceId === undefined ? this.#sql.allApiKeys([]) : this.#sql.workspaceApiKeys([workspaceId]);
    return this.#rows<ApiKeyRecord & { workspaceSlug: string }>(statement);
  }

  async revokeApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return (await this.#rows<ApiKeyRecord>(this.#sql.revokeApiKey([id, new Date().toISOString()])))[0];
  }

  async countActiveRuns(workspaceId: string): Promise<ActiveRunCounts> {
    const counts: ActiveRunCounts = { queued: 0, running: 0, paused: 0 };
    for (const { status, count } of await this.#rows<{ status: string; count: number }>(this.#sql.countActiveRuns([workspaceId]))) {
      counts[status as keyof ActiveRunCounts] = count;
    }
    return counts;
  }

  async insertRun(run: RunRecord, options: { claimSession?: string } = {}): Promise<void> {
    const { claimSession } = options;
    if (claimSession === undefined) {
      await this.#rows(this.#sql.insertRun(run));
      return;
    }
    await this.#transaction(async (client) => {
      const [, locked] = await send(client, [BEGIN, this.#sql.lockSessionForClaim([run.workspaceId, claimSession])]);
      const session = locked!.rows[0] as { status: string; activeRunId: string | null } | undefined;
      if (session === undefined) throw new AgentdError("not_found", `session ${claimSession} not found`);
      if (session.status === "ended") throw new AgentdError("session_ended", `session ${claimSession} has ended`);
      if (session.activeRunId !== null) {
        throw new AgentdError("session_busy", `session ${claimSession} already has a run in progress (${session.activeRunId})`);
      }
      await send(client, [this.#sql.claimSession([run.id, claimSession]), this.#sql.insertRun(run), COMMIT]);
    });
  }

  async getRun(workspaceId: string, runId: string): Promise<RunRecord | undefined> {
    const [row] = await this.#rows<object>(this.#sql.runById([workspaceId, runId]));
    return row === undefined ? undefined : RUNS.fromRow(row);
  }

  async listRuns(workspaceId: string, filter: RunFilter, page: RunPage): Promise<RunRecord[]> {
    const statement = listRunsStatement(this.#schema, workspaceId, filter, page);
    return statement === undefined ? [] : (await this.#rows<object>(statement)).map(RUNS.fromRow);
  }

  async listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]> {
    if (statuses.length === 0) return [];
    return (await this.#rows<object>(this.#sql.runsByStatus([statuses]))).map(RUNS.fromRow);
  }

  async requestCancel(runId: string, reason: string): Promise<boolean> {
    return (await this.#rows(this.#sql.requestCancel([withoutNul(reason), runId]))).length > 0;
  }

  async cancelRequests(runIds: string[]): Promise<Array<{ runId: string; reason: string }>> {
    if (runIds.length === 0) return [];
    return this.#rows(this.#sql.cancelRequests([runIds]));
  }

  async duePausedRuns(now: number, limit: number): Promise<Array<{ runId: string; workspaceId: string; wakeAt: number }>> {
    if (!(limit >= 1)) return [];
    // bigint arrives as a string (pg does not guess at precision).
    const due = await this.#rows<{ runId: string; workspaceId: string; wakeAt: string }>(
      this.#sql.duePausedRuns([Math.floor(now), Math.floor(limit)]),
    );
    return due.map((run) => ({ ...run, wakeAt: Number(run.wakeAt) }));
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    const parts = { sql: this.#sql, leases: this.#leaseSql, runPatches: this.#runPatches, sessionPatches: this.#sessionPatches };
    const { writes, result } = buildCommit(parts, batch);
    if (writes.length === 0) return { fenced: [] };
    // One round trip. A duplicate seq, a missing run or a patch that matches
    // no row fails on the server, which turns the COMMIT into a ROLLBACK.
    return result(await this.#transaction((client) => send(client, [BEGIN, ...writes, COMMIT])));
  }

  async claimRun(
    runId: string,
    workerId: string,
    leaseMs: number,
    options: { paused?: boolean } = {},
  ): Promise<{ lease: Lease; record: RunRecord } | undefined> {
    return this.#leases.claim(runId, workerId, leaseMs, options.paused === true);
  }

  async renewLeases(workerId: string, leases: Array<{ runId: string; epoch: number }>, leaseMs: number): Promise<string[]> {
    return this.#leases.renew(workerId, leases, leaseMs);
  }

  async releaseRun(runId: string, workerId: string, epoch: number): Promise<boolean> {
    return this.#leases.release(runId, workerId, epoch);
  }

  async orphanedRuns(limit: number, unownedForMs: number): Promise<Array<{ runId: string; workspaceId: string }>> {
    return this.#leases.orphaned(limit, unownedForMs);
  }

  async readEvents(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.#rows<StoredEvent>(this.#sql.readEvents([runId, afterSeq, limit]));
  }

  async beginIdempotent(request: IdempotencyBegin): Promise<IdempotencyState> {
    return this.#idempotency.begin(request);
  }

  async finishIdempotent(hold: IdempotencyHold, reply: { status: number; body: unknown }): Promise<boolean> {
    return this.#idempotency.finish(hold, reply);
  }

  async abandonIdempotent(hold: IdempotencyHold): Promise<boolean> {
    return this.#idempotency.abandon(hold);
  }

  async purgeIdempotency(limit: number): Promise<number> {
    return this.#idempotency.purge(limit);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    await this.#rows(this.#sql.insertSession(session));
  }

  async getSession(workspaceId: string, sessionId: string): Promise<SessionRecord | undefined> {
    const [row] = await this.#rows<object>(this.#sql.sessionById([workspaceId, sessionId]));
    return row === undefined ? undefined : SESSIONS.fromRow(row);
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const statement = this.#sessionPatches.build(sessionId, patch);
    if (statement !== undefined) await this.#rows(statement);
  }

  #use<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withClient(this.#pool, work);
  }

  #rows<R extends object>(statement: Statement): Promise<R[]> {
    return this.#use((client) => rows<R>(client, statement));
  }

  /** `work` sends BEGIN with its first statements and COMMIT with its last; any failure rolls back. */
  #transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.#use(async (client) => {
      try {
        return await work(client);
      } catch (error) {
        await rollback(client);
        throw error;
      }
    });
  }
}

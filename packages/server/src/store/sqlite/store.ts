import Database from "better-sqlite3";
import type { RunStatus } from "@agentd/protocol";
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
import { writeError } from "./constraints.js";
import { SqliteIdempotency } from "./idempotency.js";
import { lockDataFile } from "./worker-lock.js";
import { SqliteLeases } from "./leases.js";
import { RunLister, type RunPage } from "./list.js";
import { migrate } from "./migrations.js";
import { withoutNul } from "../schema/columns.js";
import { apiKeyFromRow, RUNS, SESSIONS } from "../schema/tables.js";
import { prepareStatements, type Statements } from "./statements.js";
import { SqliteWrites } from "./writes.js";

/**
 * The embedded store. better-sqlite3 is synchronous; the methods are async
 * only because the Store interface is shared with network-backed stores.
 * Each call runs to completion before the event loop moves on, so
 * the transactions below never interleave within a process.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #writes: SqliteWrites;
  readonly #lister: RunLister;
  readonly #leases: SqliteLeases;
  readonly #idempotency: SqliteIdempotency;
  readonly #commit: (batch: CommitBatch) => CommitResult;
  readonly #insertRun: (run: RunRecord, claimSession: string | undefined) => void;

  readonly #file: string;

  /** @param file a database file path (created if missing) or `:memory:`. */
  constructor(file: string) {
    this.#file = file;
    this.#db = new Database(file);
    try {
      // WAL: readers (stream replays) never block the writer. synchronous=NORMAL
      // in WAL mode fsyncs at checkpoints, not at every commit: a commit is an
      // append to the WAL, which is what makes many small group commits of token
      // deltas cheap. A process crash loses nothing; a power loss can drop the
      // last commits but never corrupts the database.
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("synchronous = NORMAL");
      this.#db.pragma("foreign_keys = ON");
      // Another process (e.g. a CLI reading the same file) may hold the write lock briefly.
      this.#db.pragma("busy_timeout = 5000");
      migrate(this.#db);
      this.#sql = prepareStatements(this.#db);
    } catch (error) {
      this.#db.close();
      throw error;
    }
    this.#lister = new RunLister(this.#db);
    this.#leases = new SqliteLeases(this.#db);
    this.#idempotency = new SqliteIdempotency(this.#db);
    const writes = (this.#writes = new SqliteWrites(this.#db, this.#sql, this.#leases));
    // IMMEDIATE: the write lock is taken at BEGIN, so no other connection can
    // claim a run between the fence check and the writes it guards (and a
    // read-first transaction cannot fail to upgrade to a writer).
    const commit = this.#db.transaction((batch: CommitBatch) => writes.commit(batch));
    this.#commit = (batch) => commit.immediate(batch);
    this.#insertRun = this.#db.transaction((run: RunRecord, claimSession: string | undefined) => writes.insertRun(run, claimSession));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  async lockWorker(): Promise<() => Promise<void>> {
    if (this.#file === ":memory:") return async () => undefined;
    const release = lockDataFile(this.#file);
    return async () => release();
  }

  async ensureWorkspace(slug: string): Promise<WorkspaceRecord> {
    // OR IGNORE + select is idempotent even when two processes race on one slug.
    this.#sql.insertWorkspace.run(`ws_${randomBase62(16)}`, slug, new Date().toISOString());
    return this.#sql.workspaceBySlug.get(slug)!;
  }

  async getWorkspaceBySlug(slug: string): Promise<WorkspaceRecord | undefined> {
    return this.#sql.workspaceBySlug.get(slug);
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    try {
      this.#sql.insertApiKey.run(key.id, key.workspaceId, key.name, key.displayPrefix, key.hash, key.createdAt, key.revokedAt);
    } catch (error) {
      throw writeError(error, { duplicate: `api key ${key.id} already exists`, missingParent: `workspace ${key.workspaceId} not found` });
    }
  }

  async findApiKeyByHash(hash: string): Promise<{ key: ApiKeyRecord; workspace: WorkspaceRecord } | undefined> {
    const row = this.#sql.activeApiKeyByHash.get(hash);
    return row === undefined ? undefined : apiKeyFromRow(row);
  }

  /** All keys, revoked ones included. */
  async countApiKeys(): Promise<number> {
    return this.#sql.countApiKeys.get()!;
  }

  async listApiKeys(workspaceId?: string): Promise<Array<ApiKeyRecord & { workspaceSlug: string }>> {
    return workspaceId === undefined ? this.#sql.allApiKeys.all() : this.#sql.workspaceApiKeys.all(workspaceId);
  }

  async revokeApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.#sql.revokeApiKey.get(new Date().toISOString(), id);
  }

  async countActiveRuns(workspaceId: string): Promise<ActiveRunCounts> {
    const counts: ActiveRunCounts = { queued: 0, running: 0, paused: 0 };
    for (const { status, count } of this.#sql.countActiveRuns.all(workspaceId)) counts[status as keyof ActiveRunCounts] = count;
    return counts;
  }

  async insertRun(run: RunRecord, options: { claimSession?: string } = {}): Promise<void> {
    this.#insertRun(run, options.claimSession);
  }

  async getRun(workspaceId: string, runId: string): Promise<RunRecord | undefined> {
    const row = this.#sql.runById.get(workspaceId, runId);
    return row === undefined ? undefined : RUNS.fromRow(row);
  }

  async listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]> {
    if (statuses.length === 0) return [];
    return this.#sql.runsByStatus.all(JSON.stringify(statuses)).map(RUNS.fromRow);
  }

  async listRuns(workspaceId: string, filter: RunFilter, page: RunPage): Promise<RunRecord[]> {
    return this.#lister.list(workspaceId, filter, page);
  }

  async requestCancel(runId: string, reason: string): Promise<boolean> {
    return this.#sql.requestCancel.run(withoutNul(reason), runId).changes > 0;
  }

  async cancelRequests(runIds: string[]): Promise<Array<{ runId: string; reason: string }>> {
    if (runIds.length === 0) return [];
    return this.#sql.cancelRequests.all(JSON.stringify(runIds));
  }

  async duePausedRuns(now: number, limit: number): Promise<Array<{ runId: string; workspaceId: string; wakeAt: number }>> {
    if (!(limit >= 1)) return [];
    return this.#sql.duePausedRuns.all(now, Math.floor(limit));
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    return this.#commit(batch);
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
    return this.#sql.readEvents.all(runId, afterSeq, limit);
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
    try {
      this.#sql.insertSession.run(...SESSIONS.values(session));
    } catch (error) {
      throw writeError(error, {
        duplicate: `session ${session.id} already exists`,
        missingParent: `workspace ${session.workspaceId} not found`,
      });
    }
  }

  async getSession(workspaceId: string, sessionId: string): Promise<SessionRecord | undefined> {
    const row = this.#sql.sessionById.get(workspaceId, sessionId);
    return row === undefined ? undefined : SESSIONS.fromRow(row);
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    this.#writes.patchSession(sessionId, patch);
  }
}

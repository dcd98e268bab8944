import Database from "better-sqlite3";
import type { RunStatus } from "@agentd/protocol";
import { AgentdError } from "../../errors.js";
import { randomBase62 } from "../../ids.js";
import type {
  ApiKeyRecord,
  CommitBatch,
  RunFilter,
  RunRecord,
  SessionPatch,
  SessionRecord,
  Store,
  StoredEvent,
  WorkspaceRecord,
} from "../types.js";
import { writeError } from "./constraints.js";
import { lockDataFile } from "./worker-lock.js";
import { RunLister, type RunPage } from "./list.js";
import { migrate } from "./migrations.js";
import { runPatchWriter, sessionPatchWriter } from "./patches.js";
import { apiKeyFromRow, runFromRow, runToRow, sessionFromRow, sessionToRow } from "./rows.js";
import { prepareStatements, type Statements } from "./statements.js";

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
  readonly #runPatches;
  readonly #sessionPatches;
  readonly #lister: RunLister;
  readonly #commit: (batch: CommitBatch) => void;
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
    this.#runPatches = runPatchWriter(this.#db);
    this.#sessionPatches = sessionPatchWriter(this.#db);
    this.#lister = new RunLister(this.#db);
    this.#commit = this.#db.transaction((batch: CommitBatch) => this.#commitNow(batch));
    this.#insertRun = this.#db.transaction((run: RunRecord, claimSession: string | undefined) =>
      this.#insertRunNow(run, claimSession),
    );
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

  async insertRun(run: RunRecord, options: { claimSession?: string } = {}): Promise<void> {
    this.#insertRun(run, options.claimSession);
  }

  async getRun(workspaceId: string, runId: string): Promise<RunRecord | undefined> {
    const row = this.#sql.runById.get(workspaceId, runId);
    return row === undefined ? undefined : runFromRow(row);
  }

  async listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]> {
    if (statuses.length === 0) return [];
    return this.#sql.runsByStatus.all(JSON.stringify(statuses)).map(runFromRow);
  }

  async listRuns(workspaceId: string, filter: RunFilter, page: RunPage): Promise<RunRecord[]> {
    return this.#lister.list(workspaceId, filter, page);
  }

  async commit(batch: CommitBatch): Promise<void> {
    this.#commit(batch);
  }

  async readEvents(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.#sql.readEvents.all(runId, afterSeq, limit);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    try {
      this.#sql.insertSession.run(sessionToRow(session));
    } catch (error) {
      throw writeError(error, { duplicate: `session ${session.id} already exists`, missingParent: `workspace ${session.workspaceId} not found` });
    }
  }

  async getSession(workspaceId: string, sessionId: string): Promise<SessionRecord | undefined> {
    const row = this.#sql.sessionById.get(workspaceId, sessionId);
    return row === undefined ? undefined : sessionFromRow(row);
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    this.#patchSession(sessionId, patch);
  }

  #commitNow(batch: CommitBatch): void {
    for (const run of batch.newRuns ?? []) this.#insertRunNow(run, undefined);
    let event: StoredEvent | undefined;
    try {
      for (event of batch.events) this.#sql.insertEvent.run(event.runId, event.seq, event.type, event.data);
    } catch (error) {
      // A duplicate seq means two writers think they own the run: the whole
      // batch is refused (rolled back), never written over a log a client may have read.
      throw writeError(error, {
        duplicate: `event ${event?.seq} of run ${event?.runId} is already stored`,
        missingParent: `run ${event?.runId} not found`,
      });
    }
    for (const { runId, patch } of batch.runs) {
      if (this.#runPatches.apply(runId, patch) === 0) throw new AgentdError("not_found", `run ${runId} not found`);
    }
    for (const { sessionId, patch } of batch.sessions) this.#patchSession(sessionId, patch);
  }

  #patchSession(sessionId: string, patch: SessionPatch): void {
    if (this.#sessionPatches.apply(sessionId, patch) === 0) throw new AgentdError("not_found", `session ${sessionId} not found`);
  }

  #insertRunNow(run: RunRecord, claimSession: string | undefined): void {
    if (claimSession !== undefined) {
      const session = this.#sql.sessionClaimState.get(run.workspaceId, claimSession);
      if (session === undefined) throw new AgentdError("not_found", `session ${claimSession} not found`);
      if (session.status === "ended") throw new AgentdError("session_ended", `session ${claimSession} has ended`);
      if (session.activeRunId !== null) {
        throw new AgentdError("session_busy", `session ${claimSession} already has a run in progress (${session.activeRunId})`);
      }
      this.#sql.claimSession.run(run.id, claimSession);
    }
    try {
      this.#sql.insertRun.run(runToRow(run));
    } catch (error) {
      throw writeError(error, { duplicate: `run ${run.id} already exists`, missingParent: `workspace ${run.workspaceId} not found` });
    }
  }
}

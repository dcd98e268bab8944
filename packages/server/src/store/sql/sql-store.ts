import type { RunStatus } from "@agentd/protocol";
import * as agents from "../operations/agents.js";
import * as events from "../operations/events.js";
import { listRuns, type RunPage } from "../operations/list-runs.js";
import * as retention from "../operations/retention.js";
import * as runs from "../operations/runs.js";
import * as sessions from "../operations/sessions.js";
import * as tenancy from "../operations/tenancy.js";
import * as traces from "../operations/traces.js";
import { sumUsage } from "../operations/usage.js";
import * as limits from "../operations/limits.js";
import type {
  ActiveRunCounts,
  AgentListing,
  AgentRecord,
  AgentReference,
  AgentRevisionRecord,
  AgentTagRecord,
  ResolvedAgent,
  ApiKeyPatch,
  ApiKeyRecord,
  RetentionBatch,
  IdempotencyBegin,
  IdempotencyHold,
  IdempotencyState,
  Lease,
  RunFilter,
  RunRecord,
  SessionRecord,
  SpanRecord,
  Store,
  StoredEvent,
  UsageSums,
  WorkspaceRecord,
  WorkspaceSettingsRecord,
} from "../types.js";
import type { UsageGroupBy } from "@agentd/protocol";
import type { Dialect } from "./dialect.js";
import type { Operation } from "./operation.js";

/** The Store methods written once, as operations (store/operations); each dialect's store adds the rest. */
export type SharedMethods =
  | "ensureWorkspace"
  | "getWorkspaceBySlug"
  | "insertApiKey"
  | "findApiKeyByHash"
  | "countApiKeys"
  | "listApiKeys"
  | "revokeApiKey"
  | "getApiKey"
  | "updateApiKey"
  | "touchApiKey"
  | "insertRun"
  | "getRun"
  | "listRuns"
  | "countActiveRuns"
  | "countKeyActiveRuns"
  | "keyTokensOfDay"
  | "listRunsByStatus"
  | "requestCancel"
  | "cancelRequests"
  | "duePausedRuns"
  | "readEvents"
  | "readSpans"
  | "deleteSpans"
  | "deleteEndedRun"
  | "sumUsage"
  | "getWorkspaceSettings"
  | "putWorkspaceSettings"
  | "deleteWorkspaceSettings"
  | "listWorkspaceSettings"
  | "deleteExpiredRuns"
  | "insertSession"
  | "getSession"
  | "claimRun"
  | "renewLeases"
  | "releaseRun"
  | "orphanedRuns"
  | "beginIdempotent"
  | "finishIdempotent"
  | "abandonIdempotent"
  | "purgeIdempotency"
  | "createAgent"
  | "getAgent"
  | "listAgents"
  | "addAgentRevision"
  | "getAgentRevision"
  | "listAgentRevisions"
  | "deleteAgent"
  | "putAgentTag"
  | "getAgentTag"
  | "listAgentTags"
  | "deleteAgentTag"
  | "resolveAgent";

type Maybe<T> = T | Promise<T>;

/** A dialect's leases (issue #4): whose clock, and how rows are locked, are its own (sqlite/leases.ts, postgres/leases.ts). */
export interface DialectLeases {
  claim(runId: string, workerId: string, leaseMs: number, paused: boolean): Maybe<{ lease: Lease; record: RunRecord } | undefined>;
  renew(workerId: string, leases: Array<{ runId: string; epoch: number }>, leaseMs: number): Maybe<string[]>;
  release(runId: string, workerId: string, epoch: number): Maybe<boolean>;
  orphaned(limit: number, unownedForMs: number): Maybe<Array<{ runId: string; workspaceId: string }>>;
}

/** A dialect's idempotency keys: how a key is taken atomically is its own (sqlite/idempotency.ts, postgres/idempotency.ts). */
export interface DialectIdempotency {
  begin(request: IdempotencyBegin): Maybe<IdempotencyState>;
  finish(hold: IdempotencyHold, reply: { status: number; body: unknown }): Maybe<boolean>;
  abandon(hold: IdempotencyHold): Maybe<boolean>;
  purge(limit: number): Maybe<number>;
}

/**
 * The domain half of a SQL store. A dialect's store extends it with the
 * driver (`execute`) and what is its own: the group commit, session patches, the worker lock,
 * connections and migrations; and its leases and idempotency keys, whose
 * methods are forwarded here.
 */
export abstract class SqlStore implements Pick<Store, SharedMethods> {
  /** Runs an operation to its end; in one transaction when asked (SQLite: synchronously, returning the value itself). */
  /** How this store's SQL is spelled (statements built per call use it). */
  protected abstract readonly dialect: Dialect;

  protected abstract readonly leases: DialectLeases;
  protected abstract readonly idempotency: DialectIdempotency;

  protected abstract execute<T>(operation: Operation<T>, options?: { transaction?: boolean }): T | Promise<T>;

  async ensureWorkspace(slug: string): Promise<WorkspaceRecord> {
    return this.execute(tenancy.ensureWorkspace(slug));
  }

  async getWorkspaceBySlug(slug: string): Promise<WorkspaceRecord | undefined> {
    return this.execute(tenancy.workspaceBySlug(slug));
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    return this.execute(tenancy.insertApiKey(key));
  }

  async getApiKey(workspaceId: string, id: string): Promise<ApiKeyRecord | undefined> {
    return this.execute(tenancy.apiKeyById(workspaceId, id));
  }

  async updateApiKey(workspaceId: string, id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined> {
    return this.execute(tenancy.updateApiKey(workspaceId, id, patch));
  }

  async touchApiKey(id: string, at: string): Promise<void> {
    return this.execute(tenancy.touchApiKey(id, at));
  }

  async findApiKeyByHash(hash: string): Promise<{ key: ApiKeyRecord; workspace: WorkspaceRecord } | undefined> {
    return this.execute(tenancy.findApiKeyByHash(hash));
  }

  /** All keys, revoked ones included. */
  async countApiKeys(): Promise<number> {
    return this.execute(tenancy.countApiKeys());
  }

  async listApiKeys(workspaceId?: string): Promise<Array<ApiKeyRecord & { workspaceSlug: string }>> {
    return this.execute(tenancy.listApiKeys(workspaceId));
  }

  async revokeApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.execute(tenancy.revokeApiKey(id));
  }

  async insertRun(run: RunRecord, options: { claimSession?: string } = {}): Promise<void> {
    const { claimSession } = options;
    if (claimSession === undefined) return this.execute(runs.insertRun(run));
    return this.execute(runs.insertSessionRun(run, claimSession), { transaction: true });
  }

  async getRun(workspaceId: string, runId: string): Promise<RunRecord | undefined> {
    return this.execute(runs.getRun(workspaceId, runId));
  }

  async listRuns(workspaceId: string, filter: RunFilter, page: RunPage): Promise<RunRecord[]> {
    return this.execute(listRuns(this.dialect, workspaceId, filter, page));
  }

  async countActiveRuns(workspaceId: string): Promise<ActiveRunCounts> {
    return this.execute(runs.countActiveRuns(workspaceId));
  }

  async countKeyActiveRuns(workspaceId: string, keyId: string): Promise<number> {
    return this.execute(limits.countKeyActiveRuns(workspaceId, keyId));
  }

  async keyTokensOfDay(keyId: string, day: string): Promise<number> {
    return this.execute(limits.keyTokensOfDay(keyId, day));
  }

  async listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]> {
    return this.execute(runs.listRunsByStatus(statuses));
  }

  async requestCancel(runId: string, reason: string): Promise<boolean> {
    return this.execute(runs.requestCancel(runId, reason));
  }

  async cancelRequests(runIds: string[]): Promise<Array<{ runId: string; reason: string }>> {
    return this.execute(runs.cancelRequests(runIds));
  }

  async duePausedRuns(now: number, limit: number): Promise<Array<{ runId: string; workspaceId: string; wakeAt: number }>> {
    return this.execute(runs.duePausedRuns(now, limit));
  }

  async readEvents(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.execute(events.readEvents(runId, afterSeq, limit));
  }

  async readSpans(runId: string): Promise<SpanRecord[]> {
    return this.execute(traces.readSpans(runId));
  }

  async deleteSpans(runId: string): Promise<number> {
    return this.execute(traces.deleteSpans(runId));
  }

  async deleteEndedRun(workspaceId: string, runId: string): Promise<boolean> {
    return this.execute(traces.deleteEndedRun(workspaceId, runId), { transaction: true });
  }

  async sumUsage(workspaceId: string, window: { from: string; to: string }, groupBy?: UsageGroupBy): Promise<UsageSums[]> {
    return this.execute(sumUsage(workspaceId, window, groupBy));
  }

  async getWorkspaceSettings(workspaceId: string): Promise<WorkspaceSettingsRecord | undefined> {
    return this.execute(retention.getWorkspaceSettings(workspaceId));
  }

  async putWorkspaceSettings(settings: WorkspaceSettingsRecord): Promise<void> {
    return this.execute(retention.putWorkspaceSettings(settings));
  }

  async deleteWorkspaceSettings(workspaceId: string): Promise<boolean> {
    return this.execute(retention.deleteWorkspaceSettings(workspaceId));
  }

  async listWorkspaceSettings(): Promise<Array<{ workspace: WorkspaceRecord; settings: WorkspaceSettingsRecord | undefined }>> {
    return this.execute(retention.listWorkspaceSettings());
  }

  async deleteExpiredRuns(workspaceId: string, endedBefore: string, batch: RetentionBatch): Promise<{ deleted: string[]; more: boolean }> {
    return this.execute(retention.deleteExpiredRuns(workspaceId, endedBefore, batch));
  }

  async insertSession(session: SessionRecord): Promise<void> {
    return this.execute(sessions.insertSession(session));
  }

  async getSession(workspaceId: string, sessionId: string): Promise<SessionRecord | undefined> {
    return this.execute(sessions.getSession(workspaceId, sessionId));
  }

  async claimRun(
    runId: string,
    workerId: string,
    leaseMs: number,
    options: { paused?: boolean } = {},
  ): Promise<{ lease: Lease; record: RunRecord } | undefined> {
    return this.leases.claim(runId, workerId, leaseMs, options.paused === true);
  }

  async renewLeases(workerId: string, leases: Array<{ runId: string; epoch: number }>, leaseMs: number): Promise<string[]> {
    return this.leases.renew(workerId, leases, leaseMs);
  }

  async releaseRun(runId: string, workerId: string, epoch: number): Promise<boolean> {
    return this.leases.release(runId, workerId, epoch);
  }

  async orphanedRuns(limit: number, unownedForMs: number): Promise<Array<{ runId: string; workspaceId: string }>> {
    return this.leases.orphaned(limit, unownedForMs);
  }

  async beginIdempotent(request: IdempotencyBegin): Promise<IdempotencyState> {
    return this.idempotency.begin(request);
  }

  async finishIdempotent(hold: IdempotencyHold, reply: { status: number; body: unknown }): Promise<boolean> {
    return this.idempotency.finish(hold, reply);
  }

  async abandonIdempotent(hold: IdempotencyHold): Promise<boolean> {
    return this.idempotency.abandon(hold);
  }

  async purgeIdempotency(limit: number): Promise<number> {
    return this.idempotency.purge(limit);
  }

  async createAgent(agent: AgentRecord, definition: Record<string, unknown>): Promise<void> {
    return this.execute(agents.createAgent(agent, definition), { transaction: true });
  }

  async getAgent(workspaceId: string, agentId: string): Promise<AgentRecord | undefined> {
    return this.execute(agents.getAgent(workspaceId, agentId));
  }

  async listAgents(workspaceId: string, page: { limit: number; after?: { createdAt: string; id: string } }): Promise<AgentListing[]> {
    return this.execute(agents.listAgents(workspaceId, page));
  }

  async addAgentRevision(
    workspaceId: string,
    agentId: string,
    definition: Record<string, unknown>,
    now: string,
  ): Promise<AgentRevisionRecord> {
    return this.execute(agents.addAgentRevision(workspaceId, agentId, definition, now), { transaction: true });
  }

  async getAgentRevision(workspaceId: string, agentId: string, revision: number): Promise<AgentRevisionRecord | undefined> {
    return this.execute(agents.getAgentRevision(workspaceId, agentId, revision));
  }

  async listAgentRevisions(workspaceId: string, agentId: string, page: { limit: number; before?: number }): Promise<AgentRevisionRecord[]> {
    return this.execute(agents.listAgentRevisions(workspaceId, agentId, page));
  }

  async deleteAgent(workspaceId: string, agentId: string, now: string): Promise<boolean> {
    return this.execute(agents.deleteAgent(workspaceId, agentId, now), { transaction: true });
  }

  async putAgentTag(tag: AgentTagRecord): Promise<AgentTagRecord> {
    return this.execute(agents.putAgentTag(tag), { transaction: true });
  }

  async getAgentTag(workspaceId: string, tag: string): Promise<AgentTagRecord | undefined> {
    return this.execute(agents.getAgentTag(workspaceId, tag));
  }

  async listAgentTags(workspaceId: string, agentId?: string): Promise<AgentTagRecord[]> {
    return this.execute(agents.listAgentTags(workspaceId, agentId));
  }

  async deleteAgentTag(workspaceId: string, tag: string): Promise<boolean> {
    return this.execute(agents.deleteAgentTag(workspaceId, tag));
  }

  async resolveAgent(workspaceId: string, reference: AgentReference): Promise<ResolvedAgent | undefined> {
    return this.execute(agents.resolveAgent(workspaceId, reference));
  }
}

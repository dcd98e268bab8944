import {
  type AgentDefinition,
  type ApprovalDecision,
  paths,
  TERMINAL_RUN_STATUSES,
  type AgentSpec,
  type ChatMessage,
  type CreateRunRequest,
  type CreateRunResponse,
  type ListRunsQuery,
  type ListRunsResponse,
  type Metadata,
  type RunSnapshot,
  type SessionMessageRequest,
  type ToolCall,
} from "@agentd/protocol";
import { resolveAgentSpec, assertUniqueToolNames } from "../engine/agents.js";
import type { RunEngine } from "../engine/engine.js";
import type { EventLog } from "../events/log.js";
import { AgentdError, invalidRequest, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { ConversationMessage, ModelRegistry } from "../models/types.js";
import type { PendingToolCall, RunRecord, SessionRecord, Store, WorkspaceRecord } from "../store/types.js";
import { awaitsApproval, awaitsLocalResult } from "../engine/active-run.js";
import type { AgentdConfig } from "../config/types.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import type { ServerTools } from "../tools/resolvers.js";
import { redactAgentSpec } from "../tools/redaction.js";
import type { SessionHandoff } from "../sessions/handoff.js";
import { assertCompilable } from "../engine/schema-check.js";
import type { Admission } from "./admission.js";
import type { LimitState } from "../limits/headers.js";
import type { KeyAdmission, KeyRunLimits, LimitedKey } from "../limits/run-limits.js";

export interface RunServiceDeps {
  /** Caps on queued, running and paused runs (429 / 503 before anything is stored). */
  admission: Admission;
  /** The key's concurrentRuns and tokensPerDay (429 naming the limit), checked before the workspace's caps. */
  keyLimits: KeyRunLimits;
  tools: ServerTools;
  handoff: SessionHandoff;
  store: Store;
  log: EventLog;
  engine: RunEngine;
  models: ModelRegistry;
  config: AgentdConfig;
}

/** Who asks for a run: its key's id (recorded on the run), agent allowlist (empty: every agent) and limits. */
export interface Caller {
  keyId: string | null;
  agents: readonly string[];
  /** The key, for its limits (none: no key limit applies). */
  key?: LimitedKey | undefined;
  /** Puts a limit's RateLimit headers on the answer. */
  report?: (state: LimitState) => void;
}

/** A run made by no key (an embedding program, a test). */
const NO_KEY: Caller = { keyId: null, agents: [] };

/**
 * A key bound to agents (its allowlist, issue #12) runs only those: another
 * agent, or an inline one (a prompt of the caller's, which would get round
 * the list), is a 403 naming what it may run.
 */
export function assertAgentAllowed(allowed: readonly string[], agentId: string | undefined): void {
  if (allowed.length === 0 || (agentId !== undefined && allowed.includes(agentId))) return;
  const may = `this API key may run only the agents ${allowed.join(", ")}`;
  throw new AgentdError(
    "forbidden",
    agentId === undefined ? `${may}, named by agentId or tag: not an inline agent` : `${may}, not '${agentId}'`,
  );
}

/** Creating, reading, answering and cancelling runs: what the routes call. */
export class RunService {
  constructor(private readonly deps: RunServiceDeps) {}

  /** `caller`: the request's key: recorded on the run (GET /usage?groupBy=key), its agent allowlist enforced. */
  async create(workspace: WorkspaceRecord, body: CreateRunRequest, caller: Caller = NO_KEY): Promise<CreateRunResponse> {
    const { prompt, messages, dependencies, ...specInput } = body;
    // Inline and config agents stay synchronous (the hot path: no await, no store read).
    const { spec, agent } = this.namesRegistryAgent(specInput)
      ? await this.resolveNamed(workspace, specInput)
      : { spec: this.resolveSpec(specInput), agent: undefined };
    assertAgentAllowed(caller.agents, spec.agentId);
    const input: ChatMessage[] = messages ?? [{ role: "user", content: prompt ?? "" }];
    const record = newRunRecord(workspace, spec, spec.metadata ?? {}, [], input, null, dependencies ?? {}, agent, caller.keyId);
    const admitted = await this.admit(workspace, caller);
    try {
      // In a cluster another worker may execute it: only the executor caches its log.
      await this.deps.log.insertRun(record, { track: !this.deps.engine.clustered });
    } finally {
      admitted.stored();
    }
    this.deps.engine.submit(record);
    return { runId: record.id, streamUrl: streamUrl(workspace, record.id) };
  }

  /** A session message: a run on the session's history, one at a time per session; it records the message's key, not the session's creator's. */
  async createInSession(
    workspace: WorkspaceRecord,
    session: SessionRecord,
    body: SessionMessageRequest,
    caller: Caller = NO_KEY,
  ): Promise<CreateRunResponse> {
    const base = session.agentSpec;
    assertAgentAllowed(caller.agents, base.agentId);
    const spec: AgentSpec = {
      ...base,
      ...(body.tools ? { tools: body.tools } : {}),
      ...(body.modelParams ? { modelParams: { ...base.modelParams, ...body.modelParams } } : {}),
    };
    if (body.tools) {
      assertUniqueToolNames(spec.tools ?? []);
      // The message's tools are the request's own, whatever agent the session runs (issue #8).
      this.deps.tools.validateRequestTools(body.tools);
      this.deps.tools.validate(spec.tools ?? [], spec);
    }
    const metadata: Metadata = { ...session.metadata, ...body.metadata };
    // A session named by a tag keeps the revision it resolved when it was created.
    const agent = session.agentRevision === null ? undefined : { revision: session.agentRevision, tag: session.agentTag };
    const record = newRunRecord(
      workspace,
      spec,
      metadata,
      session.messages,
      [{ role: "user", content: body.prompt }],
      session.id,
      body.dependencies ?? {},
      agent,
      caller.keyId,
    );
    const created = { runId: record.id, streamUrl: streamUrl(workspace, record.id), sessionId: session.id };
    const admitted = await this.admit(workspace, caller);
    try {
      await this.deps.store.insertRun(record, { claimSession: session.id });
    } catch (error) {
      if (!(error instanceof AgentdError && error.code === "session_busy" && body.onBusy === "enqueue")) throw error;
      // Queued: it waits in the store, unclaimed, until the session hands over to it.
      await this.deps.log.insertRun(record, { track: !this.deps.engine.clustered });
      await this.deps.handoff.next(workspace.id, session.id);
      return created;
    } finally {
      admitted.stored();
    }
    if (!this.deps.engine.clustered) this.deps.log.tails.track(record.id, workspace.id);
    this.deps.engine.submit(record);
    return created;
  }

  /**
   * The key's limits first (its own 429 before the workspace's), then the
   * workspace's and the process's caps; `stored()` releases both. A key
   * without run limits adds no await and no read (keyLimits.admit answers undefined).
   */
  private admit(workspace: WorkspaceRecord, caller: Caller): Promise<{ stored: () => void }> {
    const checking = this.deps.keyLimits.admit(caller.key, caller.report);
    if (checking === undefined) return this.deps.admission.admit(workspace.id);
    return this.admitLimited(workspace, checking);
  }

  private async admitLimited(workspace: WorkspaceRecord, checking: Promise<KeyAdmission>): Promise<{ stored: () => void }> {
    const byKey = await checking;
    try {
      const byWorkspace = await this.deps.admission.admit(workspace.id);
      return {
        stored: () => {
          byWorkspace.stored();
          byKey.stored();
        },
      };
    } catch (error) {
      byKey.stored();
      throw error;
    }
  }

  /**
   * The spec of a run or session request, and the registry revision it
   * names (issue #11). An inline spec or a config agent costs no store read
   * (the hot path); a tag, or an agentId the config does not have, is one
   * read of the registry, and the revision found is merged as a config
   * agent would be (resolveAgentSpec).
   */
  async resolveNamed(
    workspace: WorkspaceRecord,
    input: AgentSpec & { tag?: string | undefined; revision?: number | undefined },
  ): Promise<{ spec: AgentSpec; agent?: NamedAgent | undefined }> {
    const { tag, revision, ...specInput } = input;
    const configAgents = this.deps.config.agents ?? {};
    if (!this.namesRegistryAgent(input)) return { spec: this.resolveSpec(specInput) };
    if (specInput.agentId !== undefined && Object.hasOwn(configAgents, specInput.agentId)) {
      throw invalidRequest("revision", `agent '${specInput.agentId}' is defined in the server config and has no revisions`);
    }
    const reference = tag !== undefined ? { tag } : { agentId: specInput.agentId!, ...(revision !== undefined ? { revision } : {}) };
    const found = await this.deps.store.resolveAgent(workspace.id, reference);
    if (found === undefined) {
      const what =
        tag !== undefined
          ? `tag '${tag}'`
          : revision !== undefined
            ? `revision ${revision} of agent '${specInput.agentId}'`
            : `agent '${specInput.agentId}'`;
      throw new AgentdError("not_found", `${what} not found`, {
        hint: "Agents come from the registry (POST /agents, PUT /agent-tags/{tag}) or the server's config file.",
        issues: [{ path: tag !== undefined ? "tag" : revision !== undefined ? "revision" : "agentId", message: `${what} not found` }],
        // As before the registry: an unknown agentId lists the config's agents.
        ...(tag === undefined ? { candidates: Object.keys(configAgents) } : {}),
      });
    }
    const definition = found.definition as AgentDefinition;
    const spec = this.resolveSpec({ ...specInput, agentId: found.agentId }, { [found.agentId]: definition });
    return { spec, agent: { revision: found.revision, tag: found.tag } };
  }

  /** Whether a request names a registry agent (a tag, or an agentId the config does not have, or a revision): what needs a store read. */
  namesRegistryAgent(input: { tag?: string | undefined; agentId?: string | undefined; revision?: number | undefined }): boolean {
    if (input.tag !== undefined || input.revision !== undefined) return true;
    return input.agentId !== undefined && !Object.hasOwn(this.deps.config.agents ?? {}, input.agentId);
  }

  /** Resolves agent and model now, so a bad spec is a 400 before anything runs. `agents`: the named agents to merge from. */
  resolveSpec(input: Omit<AgentSpec, never>, agents: Record<string, AgentDefinition> = this.deps.config.agents ?? {}): AgentSpec {
    assertUniqueToolNames(input.tools ?? []);
    // The request's own tools, before the merge with a named agent's (whose tools may read secrets): issue #8.
    this.deps.tools.validateRequestTools(input.tools ?? []);
    const spec = resolveAgentSpec(input, agents);
    this.deps.tools.validate(spec.tools ?? [], spec);
    if (spec.outputSchema) {
      try {
        assertCompilable(spec.outputSchema);
      } catch (error) {
        throw new AgentdError("invalid_request", `outputSchema: not a valid JSON Schema: ${(error as Error).message}`, {
          issues: [{ path: "outputSchema", message: (error as Error).message }],
        });
      }
    }
    const model = this.deps.models.resolve(spec.modelId);
    spec.modelId = model.id;
    const temperature = spec.modelParams?.temperature;
    if (temperature !== undefined && model.maxTemperature !== undefined && temperature > model.maxTemperature) {
      throw invalidRequest("modelParams.temperature", `${model.id} accepts at most ${model.maxTemperature}`);
    }
    if (spec.fallbackModelIds !== undefined) {
      spec.fallbackModelIds = spec.fallbackModelIds.map((modelId, index) => {
        try {
          return this.deps.models.resolve(modelId).id;
        } catch (error) {
          if (!(error instanceof AgentdError)) throw error;
          const path = `fallbackModelIds.${index}`;
          throw new AgentdError(error.code, `${path}: ${error.message}`, {
            issues: [{ path, message: error.message }],
            ...(error.candidates !== undefined ? { candidates: error.candidates } : {}),
            ...(error.hint !== undefined ? { hint: error.hint } : {}),
          });
        }
      });
    }
    return spec;
  }

  async get(workspace: WorkspaceRecord, runId: string): Promise<RunRecord> {
    const run = await this.deps.store.getRun(workspace.id, runId);
    if (!run) throw notFound(`run ${runId}`);
    return run;
  }

  /**
   * What the stream endpoint needs: does the run exist in this workspace,
   * and had it ended? A run this process is executing is answered from
   * memory, without a store read.
   */
  async streamTarget(workspace: WorkspaceRecord, runId: string): Promise<{ id: string; ended: boolean }> {
    const active = this.deps.engine.activeRecord(runId);
    if (active && active.workspaceId === workspace.id) return { id: runId, ended: false };
    const ended = this.deps.log.tails.ended(runId, workspace.id);
    if (ended !== undefined) return { id: runId, ended };
    const run = await this.get(workspace, runId);
    return { id: run.id, ended: TERMINAL_RUN_STATUSES.has(run.status) };
  }

  async snapshot(workspace: WorkspaceRecord, runId: string): Promise<RunSnapshot> {
    return toSnapshot(workspace, await this.get(workspace, runId));
  }

  /** One page of the workspace's runs, newest first; `query` is already validated (ListRunsQuery). */
  async list(workspace: WorkspaceRecord, query: ListRunsQuery): Promise<ListRunsResponse> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const filter = {
      ...(query.status ? { statuses: query.status } : {}),
      ...(query.agentId !== undefined ? { agentId: query.agentId } : {}),
      ...(query.sessionId !== undefined ? { sessionId: query.sessionId } : {}),
      ...(query.metadata ? { metadata: query.metadata } : {}),
      ...(query.createdAfter !== undefined ? { createdAfter: query.createdAfter } : {}),
      ...(query.createdBefore !== undefined ? { createdBefore: query.createdBefore } : {}),
    };
    // One row more than the page says whether another page exists, so the
    // last page says `nextCursor: null` instead of sending clients after an empty one.
    const rows = await this.deps.store.listRuns(workspace.id, filter, { limit: query.limit + 1, ...(after ? { after } : {}) });
    const runs = rows.slice(0, query.limit);
    const last = runs.at(-1);
    return {
      runs: runs.map((run) => toSnapshot(workspace, run)),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
  }

  async submitToolResult(workspace: WorkspaceRecord, runId: string, toolUseId: string, outcome: { result?: string; error?: string }) {
    return this.deps.engine.submitToolResult(await this.get(workspace, runId), toolUseId, outcome);
  }

  async continue(workspace: WorkspaceRecord, runId: string, decisions: ApprovalDecision[]): Promise<void> {
    await this.deps.engine.continueRun(await this.get(workspace, runId), decisions);
  }

  async cancel(workspace: WorkspaceRecord, runId: string, reason?: string): Promise<void> {
    await this.deps.engine.cancel(await this.get(workspace, runId), reason);
  }
}

function newRunRecord(
  workspace: WorkspaceRecord,
  spec: AgentSpec,
  metadata: Metadata,
  history: ChatMessage[],
  input: ChatMessage[],
  sessionId: string | null,
  dependencies: Record<string, unknown>,
  agent: NamedAgent | undefined,
  keyId: string | null,
): RunRecord {
  const messages: ConversationMessage[] = [...history, ...input].map((message) => ({ role: message.role, content: message.content }));
  return {
    id: newId("run"),
    workspaceId: workspace.id,
    sessionId,
    agentId: spec.agentId ?? null,
    agentRevision: agent?.revision ?? null,
    agentTag: agent?.tag ?? null,
    keyId,
    modelId: spec.modelId!,
    status: "queued",
    agentSpec: spec,
    metadata,
    checkpoint: { messages, toolTurns: 0, pending: [], pendingDeadline: null, inputStart: history.length, attempt: 1, dependencies },
    text: null,
    subtype: null,
    error: null,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: null },
    lastSeq: 0,
    createdAt: new Date().toISOString(),
    startedAt: null,
    endedAt: null,
    cancelRequested: null,
  };
}

/** The registry revision a run executes, and the tag it was named by (null when none). */
export interface NamedAgent {
  revision: number;
  tag: string | null;
}

export function streamUrl(workspace: WorkspaceRecord, runId: string): string {
  return `${paths.workspace(workspace.slug)}${paths.runStream(runId)}`;
}

export function toSnapshot(workspace: WorkspaceRecord, run: RunRecord): RunSnapshot {
  return {
    id: run.id,
    runId: run.id,
    status: run.status,
    agentId: run.agentId,
    agentRevision: run.agentRevision,
    agentTag: run.agentTag,
    sessionId: run.sessionId,
    modelId: run.modelId,
    // Header values and URL credentials of HTTP tools read [redacted] (issue #8).
    agentSpec: redactAgentSpec(run.agentSpec),
    metadata: run.metadata,
    text: run.text,
    subtype: run.subtype,
    error: run.error,
    usage: run.usage,
    ...(run.status === "completed" && run.agentSpec.outputSchema && run.text !== null ? { output: parseOutput(run.text) } : {}),
    pendingToolCalls: run.checkpoint.pending.filter(awaitsLocalResult).map(asToolCall),
    pendingApprovals: run.checkpoint.pending.filter(awaitsApproval).map(asToolCall),
    lastSeq: run.lastSeq,
    streamUrl: streamUrl(workspace, run.id),
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

const asToolCall = ({ toolUseId, name, args }: PendingToolCall): ToolCall => ({ toolUseId, name, args });

/** A completed structured-output run stores its validated JSON as its text. */
function parseOutput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

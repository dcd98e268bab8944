import {
  paths,
  TERMINAL_RUN_STATUSES,
  type AgentSpec,
  type ChatMessage,
  type CreateRunRequest,
  type CreateRunResponse,
  type Metadata,
  type RunSnapshot,
  type SessionMessageRequest,
} from "@agentd/protocol";
import { resolveAgentSpec, assertUniqueToolNames, assertToolKindsAvailable } from "../engine/agents.js";
import type { RunEngine } from "../engine/engine.js";
import type { EventLog } from "../events/log.js";
import { notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { ConversationMessage, ModelRegistry } from "../models/types.js";
import type { RunRecord, SessionRecord, Store, WorkspaceRecord } from "../store/types.js";
import type { AgentdConfig } from "../config/types.js";

export interface RunServiceDeps {
  store: Store;
  log: EventLog;
  engine: RunEngine;
  models: ModelRegistry;
  config: AgentdConfig;
}

/** Creating, reading, answering and cancelling runs: what the routes call. */
export class RunService {
  constructor(private readonly deps: RunServiceDeps) {}

  async create(workspace: WorkspaceRecord, body: CreateRunRequest): Promise<CreateRunResponse> {
    const { prompt, messages, ...specInput } = body;
    const spec = this.resolveSpec(specInput);
    const input: ChatMessage[] = messages ?? [{ role: "user", content: prompt ?? "" }];
    const record = newRunRecord(workspace, spec, spec.metadata ?? {}, [], input, null);
    this.deps.log.insertRun(record);
    await this.deps.log.flush();
    this.deps.engine.submit(record);
    return { runId: record.id, streamUrl: streamUrl(workspace, record.id) };
  }

  /** A session message: a run on the session's history, one at a time per session. */
  async createInSession(workspace: WorkspaceRecord, session: SessionRecord, body: SessionMessageRequest): Promise<CreateRunResponse> {
    const base = session.agentSpec;
    const spec: AgentSpec = { ...base, ...(body.tools ? { tools: body.tools } : {}), ...(body.modelParams ? { modelParams: { ...base.modelParams, ...body.modelParams } } : {}) };
    if (body.tools) assertUniqueToolNames(spec.tools ?? []);
    const metadata: Metadata = { ...session.metadata, ...body.metadata };
    const record = newRunRecord(workspace, spec, metadata, session.messages, [{ role: "user", content: body.prompt }], session.id);
    await this.deps.store.insertRun(record, { claimSession: session.id });
    this.deps.log.tails.track(record.id, workspace.id);
    this.deps.engine.submit(record);
    return { runId: record.id, streamUrl: streamUrl(workspace, record.id), sessionId: session.id };
  }

  /** Resolves agent and model now, so a bad spec is a 400 before anything runs. */
  resolveSpec(input: Omit<AgentSpec, never>): AgentSpec {
    assertUniqueToolNames(input.tools ?? []);
    assertToolKindsAvailable(input.tools ?? []);
    const spec = resolveAgentSpec(input, this.deps.config.agents ?? {});
    spec.modelId = this.deps.models.resolve(spec.modelId).id;
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

  async submitToolResult(workspace: WorkspaceRecord, runId: string, toolUseId: string, outcome: { result?: string; error?: string }) {
    return this.deps.engine.submitToolResult(await this.get(workspace, runId), toolUseId, outcome);
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
): RunRecord {
  const messages: ConversationMessage[] = [...history, ...input].map((message) => ({ role: message.role, content: message.content }));
  return {
    id: newId("run"),
    workspaceId: workspace.id,
    sessionId,
    agentId: spec.agentId ?? null,
    modelId: spec.modelId!,
    status: "queued",
    agentSpec: spec,
    metadata,
    checkpoint: { messages, toolTurns: 0, pending: [], pendingDeadline: null, inputStart: history.length, attempt: 1 },
    text: null,
    subtype: null,
    error: null,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: null },
    lastSeq: 0,
    createdAt: new Date().toISOString(),
    startedAt: null,
    endedAt: null,
  };
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
    sessionId: run.sessionId,
    modelId: run.modelId,
    agentSpec: run.agentSpec,
    metadata: run.metadata,
    text: run.text,
    subtype: run.subtype,
    error: run.error,
    usage: run.usage,
    pendingToolCalls: run.checkpoint.pending
      .filter((call) => call.result === undefined && call.error === undefined)
      .map(({ toolUseId, name, args }) => ({ toolUseId, name, args })),
    lastSeq: run.lastSeq,
    streamUrl: streamUrl(workspace, run.id),
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

import type { CreateSessionRequest, CreateSessionResponse, SessionInfo } from "@agentd/protocol";
import type { RunEngine } from "../engine/engine.js";
import type { EventLog } from "../events/log.js";
import { notFound } from "../errors.js";
import { newId } from "../ids.js";
import { assertAgentAllowed, type RunService } from "../runs/service.js";
import { redactAgentSpec } from "../tools/redaction.js";
import type { SessionHandoff } from "./handoff.js";
import type { SessionRecord, Store, WorkspaceRecord } from "../store/types.js";

/** Conversations (seed 004 §6): history carried across runs, one run at a time. */
export class SessionService {
  constructor(
    private readonly store: Store,
    private readonly runs: RunService,
    private readonly engine: RunEngine,
    private readonly log: EventLog,
    private readonly handoff: SessionHandoff,
  ) {}

  /** `allowed`: the agent ids the caller's key may run (empty: every agent). */
  async create(workspace: WorkspaceRecord, body: CreateSessionRequest, allowed: readonly string[] = []): Promise<CreateSessionResponse> {
    const { spec, agent } = await this.runs.resolveNamed(workspace, body);
    assertAgentAllowed(allowed, spec.agentId);
    const now = new Date().toISOString();
    const session: SessionRecord = {
      id: newId("ses"),
      workspaceId: workspace.id,
      name: body.name ?? spec.name ?? "session",
      status: "active",
      agentSpec: spec,
      agentRevision: agent?.revision ?? null,
      agentTag: agent?.tag ?? null,
      metadata: spec.metadata ?? {},
      messages: [],
      activeRunId: null,
      createdAt: now,
      lastUsedAt: now,
      endedAt: null,
    };
    await this.store.insertSession(session);
    return { sessionId: session.id, name: session.name, createdAt: session.createdAt };
  }

  async get(workspace: WorkspaceRecord, sessionId: string): Promise<SessionRecord> {
    const session = await this.store.getSession(workspace.id, sessionId);
    if (!session) throw notFound(`session ${sessionId}`);
    return session;
  }

  async info(workspace: WorkspaceRecord, sessionId: string): Promise<SessionInfo> {
    const { workspaceId: _workspaceId, ...info } = await this.get(workspace, sessionId);
    const queued = await this.handoff.queued(workspace.id, sessionId);
    // Header values and URL credentials of HTTP tools read [redacted] (issue #8).
    return { ...info, agentSpec: redactAgentSpec(info.agentSpec), queuedRunIds: queued.map((run) => run.id) };
  }

  /** Ends the session and cancels its in-flight run. Idempotent. */
  async end(workspace: WorkspaceRecord, sessionId: string): Promise<void> {
    const session = await this.get(workspace, sessionId);
    if (session.status === "ended") return;
    const endedAt = new Date().toISOString();
    await this.store.updateSession(session.id, { status: "ended", endedAt });
    if (session.activeRunId) {
      const run = await this.store.getRun(workspace.id, session.activeRunId);
      if (run) await this.engine.cancel(run, "session ended");
    }
    for (const run of await this.handoff.queued(workspace.id, session.id)) await this.engine.cancel(run, "session ended");
    await this.log.flush();
  }
}

import { DEFAULT_MAX_TOOL_TURNS, type ChatMessage, type ResultSubtype, type RunEventInput, type RunStatus } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import type { EventLog } from "../events/log.js";
import type { Logger } from "../logger.js";
import { costUsd } from "../models/cost.js";
import { ModelError, type ModelRegistry } from "../models/types.js";
import type { RunQueue } from "../queue/types.js";
import type { RunRecord, Store } from "../store/types.js";
import { ActiveRun } from "./active-run.js";
import { runModelStep } from "./step.js";

export interface EngineOptions {
  store: Store;
  log: EventLog;
  queue: RunQueue;
  models: ModelRegistry;
  logger: Logger;
  /** How long a run waits for a local tool result, in milliseconds. */
  localToolTimeoutMs: number;
}

export type ToolResultOutcome = "accepted" | "ignored";

/**
 * The agent loop (DESIGN.md "Runtime"): model step → local tool calls (pause
 * until every call of the turn has a result) → repeat, until the model
 * answers without tool calls, the tool-turn budget is spent, or the run is
 * cancelled. Each step's outcome is checkpointed with its events, so a run
 * can continue from the last completed step after a restart.
 */
export class RunEngine {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly loops = new Set<Promise<void>>();
  /** Set by close(): loops stop where they are and leave their runs resumable. */
  private stopping = false;

  constructor(private readonly options: EngineOptions) {
    options.queue.process((runId) => this.execute(runId), { concurrency: 10_000 });
  }

  /** Runs this process is responsible for right now. */
  get activeCount(): number {
    return this.runs.size;
  }

  /** The in-memory record of a run this process is executing, if any. */
  activeRecord(runId: string): RunRecord | undefined {
    const run = this.runs.get(runId);
    return run && !run.finished ? run.record : undefined;
  }

  /** Takes charge of a freshly inserted run and queues it. */
  submit(record: RunRecord): void {
    this.runs.set(record.id, new ActiveRun(record));
    this.options.queue.enqueue(record.id);
  }

  /** Picks up runs a previous process left unfinished (start-up). */
  async recover(): Promise<number> {
    const runs = await this.options.store.listRunsByStatus(["queued", "running", "paused"]);
    for (const record of runs) {
      const run = new ActiveRun(record);
      this.runs.set(record.id, run);
      if (record.status === "paused") {
        this.armDeadline(run);
        continue;
      }
      if (record.status === "running") {
        record.checkpoint.attempt += 1;
        this.emit(run, { type: "run_resumed", attempt: record.checkpoint.attempt, reason: "agentd restarted while the run was in progress" });
        this.options.log.patchRun(record.id, { checkpoint: record.checkpoint });
      }
      this.options.queue.enqueue(record.id);
    }
    return runs.length;
  }

  async cancel(record: RunRecord, reason: string | undefined): Promise<void> {
    const run = this.runs.get(record.id);
    if (!run || run.closing) return; // already terminal: cancel is idempotent
    if (run.cancelReason !== undefined) return this.options.log.flush();
    run.cancelReason = reason ?? "cancelled by request";
    if (run.executing) {
      run.abort.abort();
    } else {
      await this.finishCancelled(run);
    }
    // The caller's 200 means the cancel is durable when no loop is running;
    // a running loop writes `cancelled` as soon as the model call stops.
    return this.options.log.flush();
  }

  /** Seed 004 §8: a result for one pending local tool call. */
  async submitToolResult(record: RunRecord, toolUseId: string, outcome: { result?: string; error?: string }): Promise<ToolResultOutcome> {
    const run = this.runs.get(record.id);
    if (!run || run.closing) {
      // §9: results racing a cancel are accepted and ignored.
      if (record.status === "cancelled" || run?.record.status === "cancelled") return "ignored";
      throw new AgentdError("run_terminal", `run ${record.id} has already finished (${run?.record.status ?? record.status})`);
    }
    if (run.cancelReason !== undefined) return "ignored";
    const call = run.record.checkpoint.pending.find((pending) => pending.toolUseId === toolUseId);
    if (!call || call.result !== undefined || call.error !== undefined) {
      throw new AgentdError("unknown_tool_use", `no pending tool call ${toolUseId} in run ${record.id}`, {
        hint: call ? "This tool call already has a result." : "The toolUseId comes from a local_tool_call event of this run.",
      });
    }
    if (outcome.error !== undefined) call.error = outcome.error;
    else call.result = outcome.result ?? "";
    this.emit(run, { type: "local_tool_result_in", toolUseId, ...(outcome.error !== undefined ? { error: outcome.error } : { result: call.result! }) });
    this.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint });
    await this.options.log.flush();
    if (!run.executing && !run.closing && allAnswered(run)) this.options.queue.enqueue(run.id);
    return "accepted";
  }

  /**
   * Stops every loop (shutdown). A run in the middle of a model step is left
   * `running`, with the checkpoint of its last completed step: the next start
   * picks it up (`run_resumed`). Paused runs need nothing: they wait in the store.
   */
  async close(): Promise<void> {
    this.stopping = true;
    for (const run of this.runs.values()) {
      run.clearDeadline();
      run.abort.abort();
    }
    await Promise.allSettled([...this.loops]);
    this.runs.clear();
    await this.options.log.flush().catch(() => undefined);
  }

  // --- the loop --------------------------------------------------------------

  private execute(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (!run || run.closing || run.executing || this.stopping) return Promise.resolve();
    run.executing = true;
    const loop = this.loop(run)
      .catch((error: unknown) => {
        if (this.stopping) return;
        return this.failUnexpected(run, error).catch((failure: unknown) => this.options.logger.error({ err: failure, runId }, "could not end the run"));
      })
      .finally(() => {
        run.executing = false;
        this.loops.delete(loop);
      });
    this.loops.add(loop);
    return loop;
  }

  private async loop(run: ActiveRun): Promise<void> {
    const record = run.record;
    const checkpoint = record.checkpoint;
    if (run.cancelReason !== undefined) return this.finishCancelled(run);
    run.model ??= this.options.models.resolve(record.modelId);
    if (record.lastSeq === 0) {
      this.emit(run, {
        type: "started",
        runId: record.id,
        modelId: record.modelId,
        ...(record.agentId ? { agentId: record.agentId } : {}),
        ...(record.sessionId ? { sessionId: record.sessionId } : {}),
      });
    }
    if (record.status !== "running") {
      record.startedAt ??= new Date().toISOString();
      this.setStatus(run, "running", { startedAt: record.startedAt });
    }
    const maxToolTurns = run.spec.budgets?.maxToolTurns ?? DEFAULT_MAX_TOOL_TURNS;

    for (;;) {
      if (checkpoint.pending.length > 0) {
        if (!allAnswered(run)) return this.pause(run);
        run.clearDeadline();
        for (const call of checkpoint.pending) {
          checkpoint.messages.push({
            role: "tool",
            toolUseId: call.toolUseId,
            name: call.name,
            ...(call.error !== undefined ? { error: call.error } : { result: call.result ?? "" }),
          });
        }
        checkpoint.pending = [];
        checkpoint.pendingDeadline = null;
        if (record.status !== "running") this.setStatus(run, "running");
      }

      let step;
      try {
        step = await runModelStep(run, this.emit);
      } catch (error) {
        if (this.stopping) return;
        if (run.cancelReason !== undefined) return this.finishCancelled(run);
        if (error instanceof ModelError) return this.finish(run, "error_model", { error: error.message });
        throw error;
      }
      if (this.stopping) return;
      if (run.cancelReason !== undefined) return this.finishCancelled(run);

      const cost = costUsd(run.model.info, step.usage);
      const usage = run.addUsage(step.usage.inputTokens, step.usage.outputTokens, cost);
      checkpoint.messages.push({ role: "assistant", content: step.text, ...(step.toolCalls.length > 0 ? { toolCalls: step.toolCalls } : {}) });
      this.emit(run, { type: "assistant_message", text: step.text, toolCalls: step.toolCalls, usage: { ...usage }, durationMs: step.durationMs });

      if (step.toolCalls.length === 0) return this.finish(run, "success", { text: step.text });
      if (checkpoint.toolTurns >= maxToolTurns) {
        return this.finish(run, "error_max_tool_turns", { error: `the model asked for tools after ${maxToolTurns} tool turns (budgets.maxToolTurns)` });
      }
      checkpoint.toolTurns += 1;
      this.requestLocalTools(run, step.toolCalls);
      this.options.log.patchRun(record.id, { checkpoint, usage });
    }
  }

  private requestLocalTools(run: ActiveRun, calls: RunRecord["checkpoint"]["pending"]): void {
    const known = new Set((run.spec.tools ?? []).map((tool) => tool.name));
    const checkpoint = run.record.checkpoint;
    checkpoint.pendingDeadline = Date.now() + this.options.localToolTimeoutMs;
    checkpoint.pending = calls.map((call) =>
      known.has(call.name) ? { ...call } : { ...call, error: `unknown tool '${call.name}': this agent has no tool of that name` },
    );
    for (const call of checkpoint.pending) {
      if (call.error !== undefined) continue;
      this.emit(run, { type: "local_tool_call", toolUseId: call.toolUseId, name: call.name, args: call.args, timeoutMs: this.options.localToolTimeoutMs });
    }
  }

  private pause(run: ActiveRun): void {
    this.setStatus(run, "paused", { checkpoint: run.record.checkpoint });
    this.armDeadline(run);
  }

  private armDeadline(run: ActiveRun): void {
    const deadline = run.record.checkpoint.pendingDeadline;
    if (deadline === null) return;
    run.clearDeadline();
    run.deadlineTimer = setTimeout(() => {
      if (run.closing || run.executing || allAnswered(run)) return;
      const waiting = run.record.checkpoint.pending.filter((call) => call.result === undefined && call.error === undefined);
      const names = waiting.map((call) => `${call.name} (${call.toolUseId})`).join(", ");
      void this.finish(run, "error_local_tool_timeout", { error: `no result for local tool call ${names} within ${this.options.localToolTimeoutMs} ms` });
    }, Math.max(0, deadline - Date.now()));
    run.deadlineTimer.unref();
  }

  // --- endings ---------------------------------------------------------------

  private finish(run: ActiveRun, subtype: ResultSubtype, outcome: { text?: string; error?: string }): Promise<void> {
    return this.end(run, subtype === "success" ? "completed" : "failed", (endedAt) => {
      const record = run.record;
      const durationMs = Date.parse(endedAt) - Date.parse(record.startedAt ?? record.createdAt);
      this.emit(run, { type: "result", subtype, ...outcome, usage: { ...record.usage }, durationMs });
      return { text: outcome.text ?? null, subtype, error: outcome.error ?? null };
    });
  }

  private finishCancelled(run: ActiveRun): Promise<void> {
    return this.end(run, "cancelled", () => {
      this.emit(run, { type: "cancelled", reason: run.cancelReason ?? "cancelled", usage: { ...run.record.usage } });
      return { text: null, subtype: null, error: run.cancelReason ?? null };
    });
  }

  /**
   * Queues the terminal event together with the final state and the
   * session's release, so they commit in one transaction: a client that sees
   * the terminal event can send the session's next message at once.
   */
  private async end(
    run: ActiveRun,
    status: RunStatus,
    terminal: (endedAt: string) => Pick<RunRecord, "text" | "subtype" | "error">,
  ): Promise<void> {
    if (run.closing || this.stopping) return;
    run.closing = true;
    run.clearDeadline();
    const record = run.record;
    const session = record.sessionId ? await this.options.store.getSession(record.workspaceId, record.sessionId) : undefined;
    if (this.stopping) return; // left as it was: the next start resumes it
    const endedAt = new Date().toISOString();
    const fields = { ...terminal(endedAt), endedAt };
    run.finished = true;
    Object.assign(record, fields, { status });
    record.checkpoint.pending = [];
    record.checkpoint.pendingDeadline = null;
    this.options.log.patchRun(record.id, { ...fields, status, usage: record.usage, checkpoint: record.checkpoint });
    if (session) {
      const lastUsedAt = endedAt;
      const messages = status === "completed" ? [...session.messages, ...newTurns(record)] : undefined;
      this.options.log.patchSession(session.id, { activeRunId: null, lastUsedAt, ...(messages ? { messages } : {}) });
    }
    this.runs.delete(record.id);
  }

  private failUnexpected(run: ActiveRun, error: unknown): Promise<void> {
    this.options.logger.error({ err: error, runId: run.id }, "run failed with an internal error");
    return this.finish(run, "error_internal", { error: "internal error in agentd; see the server log for this run id" });
  }

  private setStatus(run: ActiveRun, status: RunStatus, extra: Parameters<EventLog["patchRun"]>[1] = {}): void {
    run.record.status = status;
    this.options.log.patchRun(run.id, { status, ...extra });
  }

  private readonly emit = (run: ActiveRun, input: RunEventInput): void => {
    if (run.finished || this.stopping) return;
    this.options.log.append(run.id, run.stamp(input));
  };
}

/** The turns a successful session run adds to the session's history. */
function newTurns(record: RunRecord): ChatMessage[] {
  const turns: ChatMessage[] = [];
  for (const message of record.checkpoint.messages.slice(record.checkpoint.inputStart)) {
    if (message.role === "user" || message.role === "system") turns.push({ role: message.role, content: message.content });
  }
  turns.push({ role: "assistant", content: record.text ?? "" });
  return turns;
}

function allAnswered(run: ActiveRun): boolean {
  return run.record.checkpoint.pending.every((call) => call.result !== undefined || call.error !== undefined);
}

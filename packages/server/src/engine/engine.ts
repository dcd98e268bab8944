import {
  DEFAULT_MAX_TOOL_TURNS,
  type ApprovalDecision,
  type ChatMessage,
  type ResultSubtype,
  type RunEventInput,
  type RunStatus,
} from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import type { EventLog } from "../events/log.js";
import type { Logger } from "../logger.js";
import type { ModelObserver } from "../metrics/metrics.js";
import { costUsd } from "../models/cost.js";
import { ModelError, type ModelRegistry } from "../models/types.js";
import type { RunQueue } from "../queue/types.js";
import type { PendingToolCall, RunPatch, RunRecord, Store } from "../store/types.js";
import { ActiveRun, awaitsApproval, awaitsLocalResult, isAnswered } from "./active-run.js";
import { armDeadlines, approvalTimeoutMs } from "./deadlines.js";
import { checkOutput, repairPrompt } from "./output.js";
import { runModelStep, type StepHooks } from "./step.js";
import { dispatchCall, dispatchTurn, planTurn, restartOrphans, type TurnHooks } from "./tool-calls.js";
import { ToolSet, type ToolResolvers } from "./toolset.js";
import { LeaseKeeper, type ClusterOptions } from "./leases.js";
import type { EventBus } from "../bus/types.js";

export interface EngineOptions {
  store: Store;
  log: EventLog;
  queue: RunQueue;
  models: ModelRegistry;
  /** Told of every model call, retry and fallback (the server's Metrics). */
  observer?: ModelObserver;
  tools: ToolResolvers;
  logger: Logger;
  /** How long a run waits for a local tool result, in milliseconds. */
  localToolTimeoutMs: number;
  /** How long a server tool call may take, in milliseconds. */
  serverToolTimeoutMs: number;
  /** Executions of one run that may die mid-run before the run is ended (`error_max_attempts`). */
  maxRunAttempts: number;
  /** A session's run ended and freed it: its next queued run may start. */
  sessionReleased(workspaceId: string, sessionId: string): Promise<void>;
  /**
   * Several workers share the store (issue #4): runs execute under leases,
   * new and orphaned runs go through the shared queue, cancels reach other
   * workers through the bus. Absent: one process, everything local.
   */
  cluster?: ClusterOptions & { bus: EventBus };
}

/** How long a tool result or decision waits for a run busy on another worker, in milliseconds. */
const BUSY_RUN_WAIT_MS = 10_000;

export type ToolResultOutcome = "accepted" | "ignored";

/**
 * The agent loop (DESIGN.md "Runtime"): model step → tool calls (server tools
 * run here, concurrently; local tools and approvals pause the run until every
 * call of the turn has an answer) → repeat, until the model answers without
 * tool calls, a budget or guard ends the run, or it is cancelled. Each step's
 * outcome is checkpointed with its events, so a run continues from its last
 * completed step after a restart.
 */
export class RunEngine {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly loops = new Set<Promise<void>>();
  /** Set by close(): loops stop where they are and leave their runs resumable. */
  private stopping = false;
  /** Set by drain(): no loop starts; loops end at their next step boundary. */
  private draining = false;
  private readonly hooks: TurnHooks;
  private readonly stepHooks: StepHooks;
  private readonly keeper: LeaseKeeper | undefined;
  private readonly adopting = new Map<string, Promise<ActiveRun | undefined>>();
  private counted = { at: 0, active: 0, since: 0 };

  constructor(private readonly options: EngineOptions) {
    const { cluster } = options;
    if (cluster) {
      this.keeper = new LeaseKeeper(
        options.store,
        options.log,
        cluster,
        {
          lost: (runIds) => this.lost(runIds),
          orphan: (runId) => options.queue.enqueue(runId),
          due: (runId) => this.applyDeadline(runId),
          cancelRequested: (runId, reason) => {
            const run = this.runs.get(runId);
            if (run && run.cancelReason === undefined) void this.cancel(run.record, reason);
          },
        },
        options.logger,
      );
      options.log.onFenced = (runIds) => {
        this.keeper!.revoke(runIds);
        this.lost(runIds);
      };
      // The store did not take this worker's writes: stop those runs here; their
      // leases lapse and a worker (maybe this one) resumes them from the store.
      options.log.onCommitFailed = (runIds) => {
        this.keeper!.revoke(runIds);
        this.lost(runIds);
      };
      cluster.bus.onSignal("cancel", (runId) => {
        const run = this.runs.get(runId);
        if (run) void this.cancel(run.record, "cancelled by request");
      });
    }
    if (!cluster) options.log.onCommitFailed = (runIds) => this.reloadLater(this.lost(runIds));
    options.queue.process((runId) => this.execute(runId), { concurrency: cluster ? 256 : 10_000 });
    this.stepHooks = {
      emit: this.emit,
      models: options.models,
      ...(options.observer ? { observer: options.observer } : {}),
      saveCheckpoint: (run) => this.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint }),
    };
    this.hooks = {
      emit: this.emit,
      settled: (run) => this.settled(run),
      localToolTimeoutMs: options.localToolTimeoutMs,
      serverToolTimeoutMs: options.serverToolTimeoutMs,
    };
  }

  /** The in-memory record of a run this process is executing, if any. */
  activeRecord(runId: string): RunRecord | undefined {
    const run = this.runs.get(runId);
    return run && !run.finished ? run.record : undefined;
  }

  /**
   * Runs this process holds that are not paused: queued or executing here
   * (the admission cap's "process full"). Counted at most every 50 ms, plus
   * the runs submitted since: cheap at 10,000 runs, and never an undercount
   * of new work.
   */
  get activeRuns(): number {
    const now = Date.now();
    if (now - this.counted.at > 50) {
      let active = 0;
      for (const run of this.runs.values()) if (run.record.status !== "paused" && !run.finished) active++;
      this.counted = { at: now, active, since: 0 };
    }
    return this.counted.active + this.counted.since;
  }

  /** True when runs execute under leases, shared with other workers. */
  get clustered(): boolean {
    return this.keeper !== undefined;
  }

  /** Takes charge of a freshly inserted run and queues it (in a cluster: for whichever worker has room). */
  submit(record: RunRecord): void {
    this.counted.since++;
    if (this.keeper) return this.options.queue.enqueue(record.id);
    this.runs.set(record.id, new ActiveRun(record));
    this.options.queue.enqueue(record.id);
  }

  /** Picks up runs a previous process left unfinished (start-up). In a cluster the lease sweep does it, continuously. */
  async recover(): Promise<number> {
    if (this.keeper) {
      this.keeper.start();
      return 0;
    }
    const runs = await this.options.store.listRunsByStatus(["queued", "running", "paused"]);
    for (const record of runs) {
      const run = new ActiveRun(record);
      this.runs.set(record.id, run);
      if (record.status === "paused") {
        this.armTimers(run);
        continue;
      }
      if (record.status === "running" && !this.resume(run, "agentd restarted while the run was in progress")) continue;
      this.options.queue.enqueue(record.id);
    }
    return runs.length;
  }

  async cancel(record: RunRecord, reason: string | undefined): Promise<void> {
    // A session's queued run is in no engine yet: take charge of it to end it.
    if (!this.runs.has(record.id) && record.status === "queued" && record.sessionId !== null)
      this.runs.set(record.id, new ActiveRun(record));
    const run = this.runs.get(record.id);
    if (!run || run.closing) return; // already terminal: cancel is idempotent
    if (run.cancelReason !== undefined) return this.options.log.flush(run.id);
    run.cancelReason = reason ?? "cancelled by request";
    if (run.executing) run.abort.abort();
    else await this.finishCancelled(run);
    // The caller's 200 means the cancel is durable when no loop is running;
    // a running loop writes `cancelled` as soon as the model call stops.
    return this.options.log.flush(run.id);
  }

  /** Seed 004 §8: a result for one pending local tool call. */
  async submitToolResult(record: RunRecord, toolUseId: string, outcome: { result?: string; error?: string }): Promise<ToolResultOutcome> {
    await this.adoptForInput(record);
    const run = this.liveRun(record, { ignoreCancelled: true });
    if (!run) return "ignored";
    const call = run.pending.find((pending) => pending.toolUseId === toolUseId);
    // The same answer again (a retry after a lost reply, or a 503 for a commit that did land): already taken.
    if (call && isAnswered(call) && sameAnswer(call, outcome)) return "accepted";
    if (!call || !awaitsLocalResult(call)) {
      throw new AgentdError("unknown_tool_use", `no pending local tool call ${toolUseId} in run ${record.id}`, {
        hint: call
          ? "This tool call already has a result, or waits for approval first."
          : "The toolUseId comes from a local_tool_call event of this run.",
      });
    }
    if (outcome.error !== undefined) call.error = outcome.error;
    else call.result = outcome.result ?? "";
    this.emit(run, {
      type: "local_tool_result_in",
      toolUseId,
      ...(outcome.error !== undefined ? { error: outcome.error } : { result: call.result! }),
    });
    if (!run.pending.some(awaitsLocalResult)) run.record.checkpoint.pendingDeadline = null;
    this.commitInput(run);
    // Settled even when the commit failed: a run lost with it is closing and stays put; one the
    // store did take (a lost reply) must not wait for an execution nobody starts.
    try {
      await this.options.log.flush(run.id);
    } finally {
      this.settled(run);
    }
    return "accepted";
  }

  /** Decisions on calls waiting for approval (`POST /continue`); all or nothing. */
  async continueRun(record: RunRecord, decisions: ApprovalDecision[]): Promise<void> {
    await this.adoptForInput(record);
    const run = this.liveRun(record, { ignoreCancelled: false })!;
    const seen = new Set<string>();
    for (const decision of decisions) {
      const call = run.pending.find((pending) => pending.toolUseId === decision.toolUseId);
      if (!call || !awaitsApproval(call) || seen.has(decision.toolUseId)) {
        throw new AgentdError("unknown_tool_use", `no tool call ${decision.toolUseId} waiting for approval in run ${record.id}`, {
          hint: call ? "This call was already decided." : "The toolUseId comes from an approval_required event of this run.",
        });
      }
      seen.add(decision.toolUseId);
    }
    // A run paused before a restart has not resolved its tools in this process yet.
    run.tools ??= await ToolSet.resolve(run.spec.tools ?? [], this.options.tools, run.spec);
    for (const decision of decisions) this.decide(run, decision);
    this.commitInput(run);
    try {
      await this.options.log.flush(run.id);
    } finally {
      this.settled(run);
    }
  }

  /**
   * First half of a graceful shutdown (issue #4): this worker takes no new
   * run, and no loop starts a new model step; steps and server tools already
   * in flight may finish, for at most `graceMs`. Their events are committed
   * and streamed as usual. close() then hands back whatever is left.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    await this.options.queue.stopTaking();
    const deadline = Date.now() + graceMs;
    while (!this.idle() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(20, graceMs)));
  }

  /**
   * Stops every loop (shutdown). A run in the middle of a model step is left
   * `running`, with the checkpoint of its last completed step, marked as
   * handed over (not a crash): another worker, or the next start, picks it
   * up (`run_resumed`). Paused runs need nothing: they wait in the store.
   */
  async close(): Promise<void> {
    this.draining = true;
    await this.options.queue.stopTaking();
    // Marked before anything is aborted: the in-memory checkpoint is a state
    // the run can resume from, while an aborted tool call would record an error.
    const handedOff: string[] = [];
    for (const run of this.runs.values()) {
      if (run.closing || run.finished || run.record.status !== "running" || (this.keeper && !this.keeper.holds(run.id))) continue;
      run.record.checkpoint.handedOff = true;
      this.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint });
      handedOff.push(run.id);
    }
    this.stopping = true;
    for (const run of this.runs.values()) {
      run.clearTimers();
      run.abort.abort();
    }
    await Promise.allSettled([...this.loops]);
    this.runs.clear();
    await this.options.log.flush().catch(() => undefined);
    // Leases handed back at once, and the runs queued for the other workers:
    // they go on without waiting for a lease to lapse or a sweep to find them.
    if (this.keeper) {
      await this.keeper.close();
      for (const runId of handedOff) this.options.queue.enqueue(runId);
    }
  }

  /** Nothing executing here: no loop, no server tool call in flight. */
  private idle(): boolean {
    if (this.loops.size > 0) return false;
    for (const run of this.runs.values()) if (run.running.size > 0 && !run.closing) return false;
    return true;
  }

  // --- the loop --------------------------------------------------------------

  private execute(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (!run && this.keeper && !this.draining) return this.adopt(runId, {}).then((adopted) => (adopted ? this.execute(runId) : undefined));
    if (!run || run.closing || this.draining) {
      // Delivered as this worker stopped taking runs: back on the queue, for the others.
      if (!run && this.keeper && !this.stopping) this.options.queue.enqueue(runId);
      return Promise.resolve();
    }
    if (run.executing) {
      run.wake = true;
      return Promise.resolve();
    }
    run.executing = true;
    const loop = this.loop(run)
      .catch((error: unknown) => {
        if (this.stopping) return;
        return this.failUnexpected(run, error).catch((failure: unknown) =>
          this.options.logger.error({ err: failure, runId }, "could not end the run"),
        );
      })
      .finally(() => {
        run.executing = false;
        this.loops.delete(loop);
        if (run.wake && !run.closing && !this.draining) {
          run.wake = false;
          setImmediate(() => void this.execute(run.id));
        } else {
          this.park(run);
        }
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
    if (!run.tools) {
      try {
        run.tools = await ToolSet.resolve(run.spec.tools ?? [], this.options.tools, run.spec);
      } catch (error) {
        if (this.stopping) return;
        return this.finish(run, "error_tool_unavailable", { error: error instanceof Error ? error.message : String(error) });
      }
    }
    if (record.status !== "running") {
      record.startedAt ??= new Date().toISOString();
      this.setStatus(run, "running", { startedAt: record.startedAt });
    }
    this.armTimers(run);
    const maxToolTurns = run.spec.budgets?.maxToolTurns ?? DEFAULT_MAX_TOOL_TURNS;

    for (;;) {
      if (checkpoint.pending.length > 0) {
        restartOrphans(run, this.hooks);
        if (!checkpoint.pending.every(isAnswered)) {
          if (run.running.size === 0) this.pause(run);
          else if (record.status !== "running") this.setStatus(run, "running", { checkpoint });
          return;
        }
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
        checkpoint.approvalDeadline = null;
        if (record.status !== "running") this.setStatus(run, "running");
      }
      // Shutting down: the run stays at this step boundary, to be handed over.
      if (this.draining) return;

      let step;
      try {
        step = await runModelStep(run, this.stepHooks);
      } catch (error) {
        if (this.stopping || run.closing) return;
        if (run.cancelReason !== undefined) return this.finishCancelled(run);
        if (error instanceof ModelError) return this.finish(run, "error_model", { error: error.message });
        throw error;
      }
      if (this.stopping || run.closing) return;
      if (run.cancelReason !== undefined) return this.finishCancelled(run);

      const usage = run.addUsage(step.usage, costUsd(step.model.info, step.usage));
      checkpoint.messages.push({
        role: "assistant",
        content: step.text,
        ...(step.toolCalls.length > 0 ? { toolCalls: step.toolCalls } : {}),
      });
      this.emit(run, {
        type: "assistant_message",
        text: step.text,
        toolCalls: step.toolCalls,
        usage: { ...usage },
        durationMs: step.durationMs,
        modelId: step.model.id,
        stopReason: step.finishReason,
      });

      if (step.toolCalls.length === 0) {
        const schema = run.spec.outputSchema;
        if (!schema) return this.finish(run, "success", { text: step.text });
        const checked = checkOutput(schema, step.text);
        if (checked.ok) return this.finish(run, "success", { text: checked.text, output: checked.output });
        if (checkpoint.outputRepairs! >= 1) {
          return this.finish(run, "error_output_schema", { error: "the answer did not match the output schema", issues: checked.issues });
        }
        checkpoint.outputRepairs! += 1;
        checkpoint.messages.push({ role: "user", content: repairPrompt(checked.issues) });
        this.options.log.patchRun(record.id, { checkpoint, usage });
        continue;
      }
      if (checkpoint.toolTurns >= maxToolTurns) {
        return this.finish(run, "error_max_tool_turns", {
          error: `the model asked for tools after ${maxToolTurns} tool turns (budgets.maxToolTurns)`,
        });
      }
      checkpoint.toolTurns += 1;
      const plan = planTurn(run, step.toolCalls);
      if (plan.loop) {
        const { call, repeats } = plan.loop;
        this.emit(run, { type: "loop_detected", name: call.name, args: call.args, repeats });
        return this.finish(run, "error_loop_detected", {
          error: `the model called '${call.name}' with the same arguments ${repeats} times (budgets.loopGuard)`,
        });
      }
      dispatchTurn(run, this.hooks, approvalTimeoutMs(run.spec));
      this.options.log.patchRun(record.id, { checkpoint, usage });
    }
  }

  private decide(run: ActiveRun, decision: ApprovalDecision): void {
    const call = run.pending.find((pending) => pending.toolUseId === decision.toolUseId)!;
    this.emit(run, {
      type: "approval_decided",
      toolUseId: call.toolUseId,
      approved: decision.approved,
      ...(decision.reason ? { reason: decision.reason } : {}),
    });
    if (decision.approved) {
      call.approval = "approved";
      dispatchCall(run, call, this.hooks);
    } else {
      call.approval = "rejected";
      call.error = `the call was rejected by a human${decision.reason ? `: ${decision.reason}` : ""}`;
    }
    if (!run.pending.some(awaitsApproval)) run.record.checkpoint.approvalDeadline = null;
  }

  /**
   * Writes an answer with the status it implies, in one commit: a run that can
   * go on is `running` in the store the moment its last answer is, so if this
   * worker dies before the next step, the orphan sweep picks it up elsewhere.
   */
  private commitInput(run: ActiveRun): void {
    const canGoOn = run.pending.every(isAnswered) || run.running.size > 0;
    if (canGoOn && run.record.status === "paused") this.setStatus(run, "running", { checkpoint: run.record.checkpoint });
    else this.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint });
  }

  /** Something of the turn was answered: go on if it is complete, else show whether the run waits on the outside. */
  private settled(run: ActiveRun): void {
    if (run.closing || this.stopping) return;
    if (run.pending.every(isAnswered)) {
      this.execute(run.id);
      return;
    }
    if (run.executing) return;
    if (run.running.size === 0) {
      this.pause(run);
      this.park(run);
      return;
    } else if (run.record.status !== "running") this.setStatus(run, "running", { checkpoint: run.record.checkpoint });
    else this.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint });
  }

  private pause(run: ActiveRun): void {
    this.setStatus(run, "paused", { checkpoint: run.record.checkpoint });
    this.armTimers(run);
  }

  private armTimers(run: ActiveRun): void {
    armDeadlines(run, {
      localToolTimeoutMs: this.options.localToolTimeoutMs,
      expired: (subtype, error) => void this.finish(run, subtype, { error }),
      rejectApprovals: (reason) => {
        for (const call of run.pending.filter(awaitsApproval)) this.decide(run, { toolUseId: call.toolUseId, approved: false, reason });
        this.options.log.patchRun(run.id, { checkpoint: run.record.checkpoint });
        this.settled(run);
      },
      cancel: (reason) => void this.cancel(run.record, reason),
    });
  }

  // --- endings ---------------------------------------------------------------

  private finish(
    run: ActiveRun,
    subtype: ResultSubtype,
    outcome: { text?: string; output?: unknown; error?: string; issues?: Array<{ path: string; message: string }> },
  ): Promise<void> {
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
    run.clearTimers();
    // Stops server tools still running. A shared reason: abort() would build a DOMException (a stack trace) per run.
    if (!run.abort.signal.aborted) run.abort.abort(RUN_ENDED);
    const record = run.record;
    const session = record.sessionId ? await this.options.store.getSession(record.workspaceId, record.sessionId) : undefined;
    if (this.stopping) return; // left as it was: the next start resumes it
    const endedAt = new Date().toISOString();
    const fields = { ...terminal(endedAt), endedAt };
    run.finished = true;
    Object.assign(record, fields, { status });
    record.checkpoint.pending = [];
    record.checkpoint.pendingDeadline = null;
    record.checkpoint.approvalDeadline = null;
    this.options.log.patchRun(record.id, { ...fields, status, usage: record.usage, checkpoint: record.checkpoint });
    this.runs.delete(record.id);
    if (this.keeper) void this.keeper.ended(record.id);
    // A queued run of a session never held it: nothing to release.
    if (session && session.activeRunId === record.id) {
      const messages = status === "completed" ? [...session.messages, ...newTurns(record)] : undefined;
      this.options.log.patchSession(session.id, { activeRunId: null, lastUsedAt: endedAt, ...(messages ? { messages } : {}) });
      await this.options.log.flush().catch(() => undefined);
      await this.options.sessionReleased(record.workspaceId, session.id);
    }
  }

  // --- leases (cluster) ------------------------------------------------------

  /** Claims a run and builds it from the store; one claim at a time per run in this process. */
  private adopt(runId: string, options: { paused?: boolean }): Promise<ActiveRun | undefined> {
    const existing = this.runs.get(runId);
    if (existing) return Promise.resolve(existing);
    let pending = this.adopting.get(runId);
    if (!pending) {
      pending = this.claimAndBuild(runId, options).finally(() => this.adopting.delete(runId));
      this.adopting.set(runId, pending);
    }
    return pending;
  }

  private async claimAndBuild(runId: string, options: { paused?: boolean }): Promise<ActiveRun | undefined> {
    if (this.stopping) return undefined;
    const record = await this.keeper!.claim(runId, options);
    if (!record) return undefined;
    const run = new ActiveRun(record);
    this.runs.set(runId, run);
    if (record.lastSeq === 0) this.options.log.tails.track(runId, record.workspaceId);
    if (record.cancelRequested) run.cancelReason = record.cancelRequested;
    // Its worker stopped mid-run: continue from the last checkpoint (or end it, past the cap).
    if (record.status === "running" && !this.resume(run, "the worker executing the run stopped")) return undefined;
    return run;
  }

  /** Input for a run not executing here (a tool result, a decision): take its lease, waiting while another worker has it. */
  private async adoptForInput(record: RunRecord): Promise<void> {
    if (!this.keeper || this.runs.has(record.id) || TERMINAL.has(record.status)) return;
    const deadline = Date.now() + BUSY_RUN_WAIT_MS;
    for (let current: RunRecord | undefined = record; current && !TERMINAL.has(current.status);) {
      const adopted = await this.adopt(record.id, { paused: true });
      if (adopted) {
        // Taken over from a worker that stopped mid-run (not paused): it must go on, whatever this input turns out to be.
        if (adopted.record.status !== "paused") setImmediate(() => void this.execute(record.id));
        return;
      }
      if (Date.now() > deadline) {
        throw new AgentdError("unavailable", `run ${record.id} is busy on another worker; retry`, {
          hint: "The SDK retries this by itself.",
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
      current = await this.options.store.getRun(record.workspaceId, record.id);
    }
  }

  /**
   * In a cluster a paused run holds no lease and leaves memory: whichever
   * worker gets its next input takes it. Nothing of it stays here, not even
   * a timer (a soak showed a timer per parked run keeping the run in memory
   * until its deadline): the store keeps its deadline as `wake_at`, and the
   * sweep of any worker applies it once passed (within one sweep,
   * AGENTD_LEASE_MS).
   */
  private park(run: ActiveRun): void {
    if (!this.keeper || this.stopping || run.executing || run.closing || run.running.size > 0 || run.record.status !== "paused") return;
    run.clearTimers();
    this.runs.delete(run.id);
    this.options.log.tails.forget(run.id);
    void this.keeper.release(run.id);
  }

  /** A paused run's deadline has passed (the sweep found it): take its lease and let the deadline policy act (end it, reject, cancel). */
  private applyDeadline(runId: string): void {
    if (this.draining || this.runs.has(runId)) return;
    void this.adopt(runId, { paused: true }).then((adopted) => {
      if (!adopted) return;
      this.armTimers(adopted);
      // Parked again (lease back) only after the timers just armed for the
      // passed deadline have fired; not before, or parking would clear them.
      setTimeout(() => this.park(adopted), 20).unref();
    });
  }

  /**
   * Embedded mode after a failed commit: once the store answers again, take
   * the runs back from what it holds (their last committed checkpoint).
   */
  private reloadLater(runIds: string[], delayMs = 1_000): void {
    if (runIds.length === 0 || this.stopping) return;
    const timer = setTimeout(async () => {
      const retry: string[] = [];
      for (const runId of runIds) {
        try {
          const [record] = (await this.options.store.listRunsByStatus(["queued", "running", "paused"])).filter(
            (candidate) => candidate.id === runId,
          );
          if (!record || this.runs.has(runId)) continue;
          this.options.log.readmit(runId);
          const run = new ActiveRun(record);
          this.runs.set(runId, run);
          if (record.status === "paused") {
            this.armTimers(run);
            continue;
          }
          if (record.status === "running" && !this.resume(run, "the store was unreachable", { crash: false })) continue;
          this.options.queue.enqueue(runId);
        } catch {
          retry.push(runId);
        }
      }
      this.reloadLater(retry, Math.min(delayMs * 2, 30_000));
    }, delayMs);
    timer.unref();
  }

  /**
   * A run found `running` with nobody executing it: it continues from its
   * checkpoint, with `run_resumed` saying so. A run whose executions keep
   * dying with their worker is ended instead, past the re-attempt cap; a
   * hand-over by a worker shutting down gracefully does not count. Returns
   * whether the run goes on.
   */
  private resume(run: ActiveRun, reason: string, options: { crash?: boolean } = {}): boolean {
    const checkpoint = run.record.checkpoint;
    const handedOff = checkpoint.handedOff === true;
    delete checkpoint.handedOff;
    checkpoint.attempt += 1;
    if (!handedOff && options.crash !== false) checkpoint.crashes = (checkpoint.crashes ?? 0) + 1;
    this.emit(run, {
      type: "run_resumed",
      attempt: checkpoint.attempt,
      reason: handedOff ? "the worker executing the run shut down and handed it over" : reason,
    });
    const crashes = checkpoint.crashes ?? 0;
    if (crashes >= this.options.maxRunAttempts) {
      void this.finish(run, "error_max_attempts", {
        error: `the run was interrupted ${crashes} times by its worker stopping mid-run (maxRunAttempts ${this.options.maxRunAttempts})`,
      });
      return false;
    }
    this.options.log.patchRun(run.id, { checkpoint });
    return true;
  }

  /** Leases lost (late heartbeat, fenced commit), or writes the store refused: stop those runs here without writing anything more. */
  private lost(runIds: string[]): string[] {
    const stopped: string[] = [];
    for (const runId of runIds) {
      const run = this.runs.get(runId);
      if (!run) continue;
      stopped.push(runId);
      this.options.logger.warn({ runId }, "lost the lease of a run; another worker continues it");
      run.closing = true;
      run.finished = true;
      run.clearTimers();
      run.abort.abort();
      this.runs.delete(runId);
      this.options.log.tails.forget(runId);
    }
    return stopped;
  }

  private failUnexpected(run: ActiveRun, error: unknown): Promise<void> {
    this.options.logger.error({ err: error, runId: run.id }, "run failed with an internal error");
    return this.finish(run, "error_internal", { error: "internal error in agentd; see the server log for this run id" });
  }

  /** The run if it can still take input; throws run_terminal (or returns undefined for a cancelled one, when asked to). */
  private liveRun(record: RunRecord, options: { ignoreCancelled: boolean }): ActiveRun | undefined {
    const run = this.runs.get(record.id);
    const cancelled = record.status === "cancelled" || run?.record.status === "cancelled" || run?.cancelReason !== undefined;
    if (run && !run.closing && run.cancelReason === undefined) return run;
    // §9: results racing a cancel are accepted and ignored.
    if (cancelled && options.ignoreCancelled) return undefined;
    throw new AgentdError("run_terminal", `run ${record.id} has already finished (${run?.record.status ?? record.status})`);
  }

  private setStatus(run: ActiveRun, status: RunStatus, extra: RunPatch = {}): void {
    run.record.status = status;
    this.options.log.patchRun(run.id, { status, ...extra });
  }

  private readonly emit = (run: ActiveRun, input: RunEventInput): void => {
    if (run.finished || this.stopping) return;
    this.options.log.append(run.id, run.stamp(input));
  };
}

const TERMINAL: ReadonlySet<RunStatus> = new Set(["completed", "failed", "cancelled"]);

/** Whether a tool-result POST repeats the answer the call already has. */
function sameAnswer(call: PendingToolCall, outcome: { result?: string; error?: string }): boolean {
  return outcome.error !== undefined ? call.error === outcome.error : call.error === undefined && call.result === (outcome.result ?? "");
}
const RUN_ENDED = new Error("the run ended");

/** The turns a successful session run adds to the session's history. */
function newTurns(record: RunRecord): ChatMessage[] {
  const turns: ChatMessage[] = [];
  for (const message of record.checkpoint.messages.slice(record.checkpoint.inputStart)) {
    if (message.role === "user" || message.role === "system") turns.push({ role: message.role, content: message.content });
  }
  turns.push({ role: "assistant", content: record.text ?? "" });
  return turns;
}

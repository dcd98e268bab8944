import { DEFAULT_MAX_TOOL_TURNS } from "@agentd/protocol";
import { costUsd } from "../models/cost.js";
import { ModelError } from "../models/types.js";
import { isAnswered, type ActiveRun } from "./active-run.js";
import { setStatus, type EngineContext } from "./context.js";
import { approvalTimeoutMs } from "./deadlines.js";
import { failUnexpected, finish, finishCancelled } from "./endings.js";
import { park } from "./leave.js";
import { checkOutput, repairPrompt } from "./output.js";
import { adopt } from "./resume.js";
import { runModelStep } from "./step.js";
import { dispatchTurn, planTurn, restartOrphans } from "./tool-calls.js";
import { ToolSet } from "./toolset.js";
import { closeStep, failedModelSpan, modelSpan, toolSpans } from "./trace.js";
import { armTimers, pause } from "./waiting.js";

/**
 * The agent loop (DESIGN.md "Runtime"): model step → tool calls (server tools
 * run here, concurrently; local tools and approvals pause the run until every
 * call of the turn has an answer) → repeat, until the model answers without
 * tool calls, a budget or guard ends the run, or it is cancelled. Each step's
 * outcome is checkpointed with its events, so a run continues from its last
 * completed step after a restart.
 *
 * execute() runs at most one loop per run: work that arrives while it runs
 * (a server tool's result, a resumed run) wakes it again when it returns.
 */
export function execute(ctx: EngineContext, runId: string): Promise<void> {
  const run = ctx.runs.get(runId);
  if (!run && ctx.keeper && !ctx.draining) return adopt(ctx, runId, {}).then((adopted) => (adopted ? execute(ctx, runId) : undefined));
  if (!run || run.closing || ctx.draining) {
    // Delivered as this worker stopped taking runs: back on the queue, for the others.
    if (!run && ctx.keeper && !ctx.stopping) ctx.options.queue.enqueue(runId);
    return Promise.resolve();
  }
  if (run.executing) {
    run.wake = true;
    return Promise.resolve();
  }
  run.executing = true;
  const loop = runLoop(ctx, run)
    .catch((error: unknown) => {
      if (ctx.stopping) return;
      return failUnexpected(ctx, run, error).catch((failure: unknown) =>
        ctx.options.logger.error({ err: failure, runId }, "could not end the run"),
      );
    })
    .finally(() => {
      run.executing = false;
      ctx.loops.delete(loop);
      if (run.wake && !run.closing && !ctx.draining) {
        run.wake = false;
        setImmediate(() => void execute(ctx, run.id));
      } else {
        park(ctx, run);
      }
    });
  ctx.loops.add(loop);
  return loop;
}

async function runLoop(ctx: EngineContext, run: ActiveRun): Promise<void> {
  const record = run.record;
  const checkpoint = record.checkpoint;
  const { log, models } = ctx.options;
  if (run.cancelReason !== undefined) return finishCancelled(ctx, run);
  run.model ??= models.resolve(record.modelId);
  if (record.lastSeq === 0) {
    ctx.options.observer?.runStarted(record.agentId);
    // A run named through the registry says first which revision it executes (issue #11).
    if (record.agentId !== null && record.agentRevision !== null) {
      ctx.emit(run, {
        type: "agent_resolved",
        agentId: record.agentId,
        agentRevision: record.agentRevision,
        agentTag: record.agentTag,
        ...(record.sessionId ? { sessionId: record.sessionId } : {}),
      });
    }
    ctx.emit(run, {
      type: "started",
      runId: record.id,
      modelId: record.modelId,
      ...(record.agentId ? { agentId: record.agentId } : {}),
      ...(record.sessionId ? { sessionId: record.sessionId } : {}),
    });
  }
  if (!run.tools) {
    try {
      run.tools = await ToolSet.resolve(run.spec.tools ?? [], ctx.options.tools, run.spec);
    } catch (error) {
      if (ctx.stopping) return;
      return finish(ctx, run, "error_tool_unavailable", { error: error instanceof Error ? error.message : String(error) });
    }
  }
  if (record.status !== "running") {
    record.startedAt ??= new Date().toISOString();
    setStatus(ctx, run, "running", { startedAt: record.startedAt });
  }
  armTimers(ctx, run);
  const maxToolTurns = run.spec.budgets?.maxToolTurns ?? DEFAULT_MAX_TOOL_TURNS;

  for (;;) {
    if (checkpoint.pending.length > 0) {
      restartOrphans(run, ctx.turnHooks);
      if (!checkpoint.pending.every(isAnswered)) {
        if (run.running.size === 0) pause(ctx, run);
        else if (record.status !== "running") setStatus(ctx, run, "running", { checkpoint });
        return;
      }
      toolSpans(log, run, checkpoint.pending);
      closeStep(log, run);
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
      if (record.status !== "running") setStatus(ctx, run, "running");
    }
    // Shutting down: the run stays at this step boundary, to be handed over.
    if (ctx.draining) return;

    let step;
    const stepStarted = Date.now();
    try {
      step = await runModelStep(run, ctx.stepHooks);
    } catch (error) {
      if (ctx.stopping || run.closing) return;
      failedModelSpan(log, run, stepStarted, error instanceof ModelError ? error.message : "cancelled");
      if (run.cancelReason !== undefined) return finishCancelled(ctx, run);
      if (error instanceof ModelError) return finish(ctx, run, "error_model", { error: error.message });
      throw error;
    }
    if (ctx.stopping || run.closing) return;
    const stepCost = costUsd(step.model.info, step.usage);
    // Cancelled as the answer came: not counted in the usage, so no model span either (the root's usage is the sum of its model spans).
    if (run.cancelReason !== undefined) return finishCancelled(ctx, run);

    const usage = run.addUsage(step.usage, stepCost, step.toolCalls.length);
    modelSpan(log, run, stepStarted, step, stepCost);
    checkpoint.messages.push({
      role: "assistant",
      content: step.text,
      ...(step.toolCalls.length > 0 ? { toolCalls: step.toolCalls } : {}),
    });
    ctx.emit(run, {
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
      if (!schema) return finish(ctx, run, "success", { text: step.text });
      const checked = checkOutput(schema, step.text);
      if (checked.ok) return finish(ctx, run, "success", { text: checked.text, output: checked.output });
      if (checkpoint.outputRepairs! >= 1) {
        return finish(ctx, run, "error_output_schema", { error: "the answer did not match the output schema", issues: checked.issues });
      }
      checkpoint.outputRepairs! += 1;
      checkpoint.messages.push({ role: "user", content: repairPrompt(checked.issues) });
      log.patchRun(record.id, { checkpoint, usage });
      continue;
    }
    if (checkpoint.toolTurns >= maxToolTurns) {
      return finish(ctx, run, "error_max_tool_turns", {
        error: `the model asked for tools after ${maxToolTurns} tool turns (budgets.maxToolTurns)`,
      });
    }
    checkpoint.toolTurns += 1;
    const plan = planTurn(run, step.toolCalls);
    if (plan.loop) {
      const { call, repeats } = plan.loop;
      ctx.emit(run, { type: "loop_detected", name: call.name, args: call.args, repeats });
      return finish(ctx, run, "error_loop_detected", {
        error: `the model called '${call.name}' with the same arguments ${repeats} times (budgets.loopGuard)`,
      });
    }
    dispatchTurn(run, ctx.turnHooks, approvalTimeoutMs(run.spec));
    log.patchRun(record.id, { checkpoint, usage });
  }
}

import { DEFAULT_LOOP_GUARD, DEFAULT_TOOL_CONCURRENCY, type RunEventInput, type ToolCall } from "@agentd/protocol";
import type { PendingToolCall } from "../store/types.js";
import { ToolError } from "../tools/types.js";
import { ActiveRun, isAnswered } from "./active-run.js";

/** What the tool-call logic needs from the engine. */
export interface TurnHooks {
  emit(run: ActiveRun, input: RunEventInput): void;
  /** A server call finished: record it and let the loop go on if the turn is complete. */
  settled(run: ActiveRun): void;
  /** Milliseconds a local tool result may take. */
  localToolTimeoutMs: number;
  /** Milliseconds a server tool call may take before it is aborted. */
  serverToolTimeoutMs: number;
}

/** Results longer than this are cut: the model's context is not a file store. */
const MAX_RESULT_CHARS = 1_000_000;

export type TurnPlan = { loop: { call: ToolCall; repeats: number } } | { loop?: undefined };

/**
 * Turns the model's tool calls into the turn's pending calls: unknown tools,
 * invalid arguments and exhausted per-tool limits are answered at once with
 * an error the model sees; the rest wait for approval, the caller, or run
 * here. Also counts repeats for the loop guard.
 */
export function planTurn(run: ActiveRun, calls: ToolCall[]): TurnPlan {
  const checkpoint = run.record.checkpoint;
  const budgets = run.spec.budgets ?? {};
  const loopGuard = budgets.loopGuard ?? DEFAULT_LOOP_GUARD;
  const pending: PendingToolCall[] = [];
  // Each call's trace span runs from here, the model asking for it, to its answer (engine/trace.ts).
  const now = Date.now();
  for (const call of calls) {
    const fingerprint = `${call.name} ${stableJson(call.args)}`;
    const repeats = (checkpoint.callRepeats![fingerprint] ?? 0) + 1;
    checkpoint.callRepeats![fingerprint] = repeats;
    if (repeats >= loopGuard) return { loop: { call, repeats } };

    const entry = run.tools!.get(call.name);
    if (!entry) {
      pending.push({
        ...call,
        executor: "server",
        error: `unknown tool '${call.name}': this agent has no tool of that name`,
        startedAt: now,
        endedAt: now,
      });
      continue;
    }
    const pendingCall: PendingToolCall = { ...call, executor: entry.executor, startedAt: now };
    const invalid = run.tools!.invalidArguments(entry, call.args);
    const limit = budgets.toolCallLimits?.[call.name];
    const used = checkpoint.callCounts![call.name] ?? 0;
    if (invalid) pendingCall.error = invalid;
    else if (limit !== undefined && used >= limit) pendingCall.error = `tool '${call.name}' may be called at most ${limit} times in a run`;
    if (pendingCall.error !== undefined) pendingCall.endedAt = now;
    else {
      checkpoint.callCounts![call.name] = used + 1;
      if (entry.requiresApproval) pendingCall.approval = "pending";
    }
    pending.push(pendingCall);
  }
  checkpoint.pending = pending;
  return {};
}

/** Starts what can start now: asks for approvals, asks the caller for local results, runs server tools. */
export function dispatchTurn(run: ActiveRun, hooks: TurnHooks, approvalTimeoutMs: number): void {
  const checkpoint = run.record.checkpoint;
  for (const call of checkpoint.pending) {
    if (isAnswered(call)) continue;
    if (call.approval === "pending") {
      checkpoint.approvalDeadline ??= Date.now() + approvalTimeoutMs;
      hooks.emit(run, {
        type: "approval_required",
        toolUseId: call.toolUseId,
        name: call.name,
        args: call.args,
        timeoutMs: approvalTimeoutMs,
      });
    } else {
      dispatchCall(run, call, hooks);
    }
  }
}

/** One call that may run: local → the caller is asked; server → it runs here. */
export function dispatchCall(run: ActiveRun, call: PendingToolCall, hooks: TurnHooks): void {
  if (call.executor === "local") {
    run.record.checkpoint.pendingDeadline ??= Date.now() + hooks.localToolTimeoutMs;
    hooks.emit(run, {
      type: "local_tool_call",
      toolUseId: call.toolUseId,
      name: call.name,
      args: call.args,
      timeoutMs: hooks.localToolTimeoutMs,
    });
  } else {
    startServerCall(run, call, hooks);
  }
}

/** Server calls that should be running but are not (their process stopped): start them again. */
export function restartOrphans(run: ActiveRun, hooks: TurnHooks): void {
  for (const call of run.pending) {
    if (call.executor !== "server" || isAnswered(call) || call.approval === "pending" || run.running.has(call.toolUseId)) continue;
    startServerCall(run, call, hooks);
  }
}

function startServerCall(run: ActiveRun, call: PendingToolCall, hooks: TurnHooks): void {
  const entry = run.tools!.get(call.name)!;
  const controller = new AbortController();
  const stop = () => controller.abort(run.abort.signal.reason);
  run.abort.signal.addEventListener("abort", stop, { once: true });
  run.running.set(call.toolUseId, controller);
  hooks.emit(run, { type: "tool_call", toolUseId: call.toolUseId, name: call.name, args: call.args });
  const started = performance.now();
  const timeout = setTimeout(
    () => controller.abort(new ToolError(`timed out after ${hooks.serverToolTimeoutMs} ms`)),
    hooks.serverToolTimeoutMs,
  );
  const context = {
    signal: controller.signal,
    runId: run.id,
    toolUseId: call.toolUseId,
    dependencies: run.record.checkpoint.dependencies ?? {},
  };
  void withSlot(run, () => entry.server!.execute(call.args, context))
    .then(
      (value) => {
        const text = resultText(value);
        if (typeof text === "string") call.result = text;
        else call.error = text.error;
      },
      (error: unknown) => {
        call.error =
          controller.signal.aborted && controller.signal.reason instanceof ToolError
            ? controller.signal.reason.message
            : errorMessage(error);
      },
    )
    .finally(() => {
      clearTimeout(timeout);
      call.endedAt = Date.now();
      run.abort.signal.removeEventListener("abort", stop);
      run.running.delete(call.toolUseId);
      if (run.closing || run.abort.signal.aborted) return;
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      const ok = call.error === undefined;
      hooks.emit(run, {
        type: "tool_result",
        toolUseId: call.toolUseId,
        name: call.name,
        ok,
        ...(ok ? { summary: call.result!.slice(0, 200) } : { error: call.error! }),
        durationMs,
      });
      hooks.settled(run);
    });
}

/** At most `budgets.toolConcurrency` server calls of a run at once. */
const queues = new WeakMap<ActiveRun, { active: number; waiting: Array<() => void> }>();
async function withSlot<T>(run: ActiveRun, work: () => Promise<T>): Promise<T> {
  const limit = run.spec.budgets?.toolConcurrency ?? DEFAULT_TOOL_CONCURRENCY;
  let queue = queues.get(run);
  if (!queue) queues.set(run, (queue = { active: 0, waiting: [] }));
  if (queue.active >= limit) await new Promise<void>((resolve) => queue!.waiting.push(resolve));
  queue.active++;
  try {
    return await work();
  } finally {
    queue.active--;
    queue.waiting.shift()?.();
  }
}

function resultText(value: unknown): string | { error: string } {
  if (typeof value === "string") return value.length > MAX_RESULT_CHARS ? `${value.slice(0, MAX_RESULT_CHARS)}[truncated]` : value;
  if (value === undefined) return "";
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return { error: "the tool returned a value that is not JSON-serialisable" };
    return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}[truncated]` : text;
  } catch (error) {
    return { error: `the tool returned a value that is not JSON-serialisable: ${(error as Error).message}` };
  }
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** JSON with sorted keys, so the same arguments in another order count as the same call. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

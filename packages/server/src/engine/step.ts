import { DEFAULT_MAX_MODEL_RETRIES, type ToolCall } from "@agentd/protocol";
import { countsAgainstProvider } from "../models/circuit-breaker.js";
import { retryWaitMs } from "../models/retry.js";
import { ModelError, type LanguageModel, type ModelRegistry, type ModelTool, type ModelUsage } from "../models/types.js";
import type { ActiveRun } from "./active-run.js";
import type { ModelObserver } from "../metrics/metrics.js";
import type { Emit } from "./emit.js";
import { outputInstructions } from "./output.js";

export interface StepResult {
  text: string;
  toolCalls: ToolCall[];
  usage: ModelUsage;
  durationMs: number;
  /** From the call to its first streamed part, in milliseconds; null when nothing was streamed before the finish. */
  timeToFirstTokenMs: number | null;
  /** The model that answered (the run's, or a fallback). */
  model: LanguageModel;
  finishReason: string;
}

export interface StepHooks {
  emit: Emit;
  models: ModelRegistry;
  /** Persists the run's checkpoint (its retry count) with the events just emitted. */
  saveCheckpoint(run: ActiveRun): void;
  /** Waits before a retry; rejects with the signal's reason when it aborts. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  observer?: ModelObserver;
}

/**
 * One model step: the run's model, and on a retryable failure before any
 * output the same model again after a wait (`model_retry`), within the
 * run's budgets.maxModelRetries; once those are spent, or the provider's
 * circuit is open, the next of `fallbackModelIds` (`model_fallback`). A
 * failure after output had been streamed is never retried: the client has
 * seen text a new attempt could contradict, so the run fails saying what it
 * had received.
 */
export async function runModelStep(run: ActiveRun, hooks: StepHooks): Promise<StepResult> {
  const chain = [run.model!.id, ...(run.spec.fallbackModelIds ?? []).filter((id) => id !== run.model!.id)];
  const checkpoint = run.record.checkpoint;
  const maxRetries = run.spec.budgets?.maxModelRetries ?? DEFAULT_MAX_MODEL_RETRIES;
  let model = run.model!;
  for (let index = 0; ;) {
    const received: Received = { text: 0, reasoning: 0, toolCalls: 0 };
    try {
      return await attempt(run, model, hooks, received);
    } catch (error) {
      if (!(error instanceof ModelError) || run.abort.signal.aborted) throw error;
      if (received.text > 0 || received.reasoning > 0 || received.toolCalls > 0) throw afterOutput(error, received);
      const retries = checkpoint.modelRetries ?? 0;
      const wait = error.retryable && retries < maxRetries ? retryWaitMs(error, retries + 1, timeLeft(run)) : undefined;
      if (wait !== undefined) {
        checkpoint.modelRetries = retries + 1;
        hooks.emit(run, {
          type: "model_retry",
          attempt: retries + 1,
          modelId: model.id,
          ...(error.status !== undefined ? { status: error.status } : {}),
          error: error.message,
          waitMs: wait,
        });
        hooks.saveCheckpoint(run);
        hooks.observer?.retry(model.info.provider, error.status);
        await (hooks.sleep ?? sleep)(wait, run.abort.signal);
        continue;
      }
      const next = chain[index + 1];
      if (next === undefined || !(error.retryable || error.circuitOpen)) throw error;
      index += 1;
      const fallback = hooks.models.resolve(next);
      hooks.emit(run, { type: "model_fallback", fromModelId: model.id, toModelId: fallback.id, error: error.message });
      hooks.observer?.fallback(model.info.provider, fallback.info.provider);
      model = fallback;
    }
  }
}

/** What a call had streamed to the client when it failed. */
interface Received {
  text: number;
  reasoning: number;
  toolCalls: number;
}

/** One call of one model: deltas go out as events as they arrive. */
async function attempt(run: ActiveRun, model: LanguageModel, hooks: StepHooks, received: Received): Promise<StepResult> {
  const { emit, observer } = hooks;
  const started = performance.now();
  const spec = run.spec;
  const tools: ModelTool[] = run.tools?.forModel() ?? [];
  let text = "";
  const toolCalls: ToolCall[] = [];
  let usage: ModelUsage = { inputTokens: 0, outputTokens: 0 };
  let finishReason = "other";
  /** When the first part other than the finish arrived: the model's time to first token (span and metrics). */
  let firstPart: number | undefined;
  const deltas = new DeltaBuffer(run, emit);
  const circuit = model.circuit;
  try {
    circuit?.admit();
  } catch (error) {
    observer?.call(model.info.provider, "circuit_open");
    throw error;
  }
  let outcome: "ok" | "down" | "up" | "unknown" = "unknown";
  try {
    const stream = model.stream({
      system: (spec.systemPrompt ?? "") + (spec.outputSchema ? outputInstructions(spec.outputSchema) : ""),
      messages: run.record.checkpoint.messages,
      tools,
      params: spec.modelParams ?? {},
      ...(spec.outputSchema ? { responseFormat: { schema: spec.outputSchema, name: "final_answer" } } : {}),
      signal: run.abort.signal,
    });
    for await (const part of stream) {
      if (run.cancelReason !== undefined) break;
      if (firstPart === undefined && part.type !== "finish") firstPart = performance.now();
      switch (part.type) {
        case "text-delta":
          text += part.text;
          received.text += part.text.length;
          deltas.add("assistant_delta", part.text);
          break;
        case "reasoning-delta":
          received.reasoning += part.text.length;
          deltas.add("thinking_delta", part.text);
          break;
        case "tool-call":
          deltas.flush();
          received.toolCalls += 1;
          toolCalls.push({ toolUseId: part.toolUseId, name: part.name, args: part.args });
          break;
        case "finish":
          deltas.flush();
          usage = part.usage;
          finishReason = part.finishReason;
          outcome = "ok";
          break;
      }
    }
  } catch (error) {
    if (error instanceof ModelError && !run.abort.signal.aborted)
      outcome = countsAgainstProvider(error) ? "down" : error.circuitOpen ? "unknown" : "up";
    throw error;
  } finally {
    deltas.flush();
    if (circuit !== undefined) {
      if (outcome === "ok" || outcome === "up") circuit.succeeded();
      else if (outcome === "down") circuit.failed();
      else circuit.released();
    }
    if (outcome !== "unknown") observer?.call(model.info.provider, outcome === "ok" ? "ok" : "error");
    if (outcome === "ok") {
      const ended = performance.now();
      observer?.timed(model.info.provider, model.id, ended - started, (firstPart ?? ended) - started);
    }
  }
  const ms = (at: number): number => Math.round((at - started) * 100) / 100;
  return {
    text,
    toolCalls,
    usage,
    durationMs: ms(performance.now()),
    timeToFirstTokenMs: firstPart === undefined ? null : ms(firstPart),
    model,
    finishReason,
  };
}

/** The error a run fails with when the call broke after output: what it had received, and why it is not retried. */
function afterOutput(error: ModelError, received: Received): ModelError {
  const got = [
    received.text > 0 ? `${received.text} characters of text` : "",
    received.reasoning > 0 ? `${received.reasoning} characters of reasoning` : "",
    received.toolCalls > 0 ? `${received.toolCalls} tool calls` : "",
  ]
    .filter(Boolean)
    .join(" and ");
  return new ModelError(
    error.provider,
    `${error.message} (after ${got} had been streamed; not retried, as a new answer could contradict them)`,
    {
      ...(error.status !== undefined ? { status: error.status } : {}),
      cause: error,
    },
  );
}

/** What is left of the run's budgets.maxDurationMs, if it has one. */
function timeLeft(run: ActiveRun): number | undefined {
  const max = run.spec.budgets?.maxDurationMs;
  const started = run.record.startedAt;
  return max === undefined || started === null || started === undefined ? undefined : Date.parse(started) + max - Date.now();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Deltas that arrive within one turn of the event loop become one event.
 * The event log commits once per turn anyway, so a reader sees them no later
 * than it would have as separate events, and a burst of tokens (a fast
 * provider, or a slow reader catching up) costs one stored row and one frame
 * instead of dozens. Text is never reordered or dropped.
 */
class DeltaBuffer {
  private type: "assistant_delta" | "thinking_delta" = "assistant_delta";
  private text = "";
  private timer: NodeJS.Immediate | undefined;

  constructor(
    private readonly run: ActiveRun,
    private readonly emit: Emit,
  ) {}

  add(type: "assistant_delta" | "thinking_delta", text: string): void {
    if (text.length === 0) return;
    if (type !== this.type) this.flush();
    this.type = type;
    this.text += text;
    this.timer ??= setImmediate(() => {
      this.timer = undefined;
      this.flush();
    });
  }

  flush(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    if (this.text.length === 0 || this.run.cancelReason !== undefined) return;
    this.emit(this.run, { type: this.type, text: this.text });
    this.text = "";
  }
}

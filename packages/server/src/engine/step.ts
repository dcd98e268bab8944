import type { ToolCall } from "@agentd/protocol";
import type { ModelTool, ModelUsage } from "../models/types.js";
import type { ActiveRun } from "./active-run.js";
import type { Emit } from "./emit.js";
import { outputInstructions } from "./output.js";

export interface StepResult {
  text: string;
  toolCalls: ToolCall[];
  usage: ModelUsage;
  durationMs: number;
}

/** One streamed model call: deltas go out as events as they arrive. */
export async function runModelStep(run: ActiveRun, emit: Emit): Promise<StepResult> {
  const model = run.model!;
  const started = performance.now();
  const spec = run.spec;
  const tools: ModelTool[] = run.tools?.forModel() ?? [];
  let text = "";
  const toolCalls: ToolCall[] = [];
  let usage: ModelUsage = { inputTokens: 0, outputTokens: 0 };
  const deltas = new DeltaBuffer(run, emit);
  const stream = model.stream({
    system: (spec.systemPrompt ?? "") + (spec.outputSchema ? outputInstructions(spec.outputSchema) : ""),
    messages: run.record.checkpoint.messages,
    tools,
    params: spec.modelParams ?? {},
    signal: run.abort.signal,
  });
  try {
    for await (const part of stream) {
      if (run.cancelReason !== undefined) break;
      switch (part.type) {
        case "text-delta":
          text += part.text;
          deltas.add("assistant_delta", part.text);
          break;
        case "reasoning-delta":
          deltas.add("thinking_delta", part.text);
          break;
        case "tool-call":
          deltas.flush();
          toolCalls.push({ toolUseId: part.toolUseId, name: part.name, args: part.args });
          break;
        case "finish":
          deltas.flush();
          usage = part.usage;
          break;
      }
    }
  } finally {
    deltas.flush();
  }
  return { text, toolCalls, usage, durationMs: Math.round((performance.now() - started) * 100) / 100 };
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

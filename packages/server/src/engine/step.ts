import type { ToolCall } from "@agentd/protocol";
import type { ModelTool, ModelUsage } from "../models/types.js";
import type { ActiveRun } from "./active-run.js";
import type { Emit } from "./emit.js";

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
  const tools: ModelTool[] = (spec.tools ?? []).map((tool) => ({
    name: tool.name,
    description: tool.description ?? "",
    parameters: tool.parameters ?? { type: "object", properties: {} },
  }));
  let text = "";
  const toolCalls: ToolCall[] = [];
  let usage: ModelUsage = { inputTokens: 0, outputTokens: 0 };
  const stream = model.stream({
    system: spec.systemPrompt ?? "",
    messages: run.record.checkpoint.messages,
    tools,
    params: spec.modelParams ?? {},
    signal: run.abort.signal,
  });
  for await (const part of stream) {
    if (run.cancelReason !== undefined) break;
    switch (part.type) {
      case "text-delta":
        if (part.text.length === 0) break;
        text += part.text;
        emit(run, { type: "assistant_delta", text: part.text });
        break;
      case "reasoning-delta":
        if (part.text.length > 0) emit(run, { type: "thinking_delta", text: part.text });
        break;
      case "tool-call":
        toolCalls.push({ toolUseId: part.toolUseId, name: part.name, args: part.args });
        break;
      case "finish":
        usage = part.usage;
        break;
    }
  }
  return { text, toolCalls, usage, durationMs: Math.round((performance.now() - started) * 100) / 100 };
}

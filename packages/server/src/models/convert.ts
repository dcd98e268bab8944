import { MODEL_JSON_MAX_DEPTH, tooDeep } from "../json-depth.js";
import type {
  LanguageModelV3CallOptions,
  LanguageModelV3FunctionTool,
  LanguageModelV3Prompt,
  LanguageModelV3ToolResultPart,
} from "@ai-sdk/provider";
import type { ModelStepRequest, ModelTool } from "./types.js";

/** Our step request as one AI SDK `doStream` call (provider spec v3). */
export function toCallOptions(request: ModelStepRequest): LanguageModelV3CallOptions {
  const tools = request.tools.map(toFunctionTool);
  return {
    prompt: toPrompt(request),
    ...(tools.length > 0 ? { tools, toolChoice: { type: "auto" as const } } : {}),
    ...(request.params.temperature !== undefined ? { temperature: request.params.temperature } : {}),
    ...(request.params.maxTokens !== undefined ? { maxOutputTokens: request.params.maxTokens } : {}),
    ...(request.params.seed !== undefined ? { seed: request.params.seed } : {}),
    abortSignal: request.signal,
  };
}

function toPrompt(request: ModelStepRequest): LanguageModelV3Prompt {
  const prompt: LanguageModelV3Prompt = [];
  if (request.system.length > 0) prompt.push({ role: "system", content: request.system });
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
        prompt.push({ role: "system", content: message.content });
        break;
      case "user":
        prompt.push({ role: "user", content: [{ type: "text", text: message.content }] });
        break;
      case "assistant": {
        // Anthropic rejects empty text blocks, and a tool-only turn has no text.
        const content: Extract<LanguageModelV3Prompt[number], { role: "assistant" }>["content"] = [];
        if (message.content.length > 0) content.push({ type: "text", text: message.content });
        for (const call of message.toolCalls ?? []) {
          content.push({ type: "tool-call", toolCallId: call.toolUseId, toolName: call.name, input: call.args });
        }
        if (content.length > 0) prompt.push({ role: "assistant", content });
        break;
      }
      case "tool": {
        const part: LanguageModelV3ToolResultPart = {
          type: "tool-result",
          toolCallId: message.toolUseId,
          toolName: message.name,
          output:
            message.error !== undefined
              ? // OpenAI has no error flag on tool messages: say it in the text.
                { type: "error-text", value: `Error: ${message.error}` }
              : { type: "text", value: message.result ?? "" },
        };
        // Results of one turn's parallel calls travel together (Anthropic
        // wants them in a single user message).
        const last = prompt[prompt.length - 1];
        if (last?.role === "tool") last.content.push(part);
        else prompt.push({ role: "tool", content: [part] });
        break;
      }
    }
  }
  return prompt;
}

function toFunctionTool(tool: ModelTool): LanguageModelV3FunctionTool {
  // OpenAI rejects function parameters without `type: "object"` and `properties`.
  const inputSchema = { type: "object", properties: {}, ...tool.parameters } as LanguageModelV3FunctionTool["inputSchema"];
  return {
    type: "function",
    name: tool.name,
    ...(tool.description.length > 0 ? { description: tool.description } : {}),
    inputSchema,
  };
}

/**
 * Tool-call arguments arrive as a JSON string. A model can emit broken or
 * non-object JSON; rather than failing the whole step we pass `{}` and let the
 * tool's own argument validation report the problem back to the model.
 */
export function parseToolArgs(input: string): Record<string, unknown> {
  if (input.trim().length === 0) return {};
  try {
    const value: unknown = JSON.parse(input);
    // Nested deeper than anything a tool takes: refused before it reaches the checkpoint's JSON.stringify, which would overflow.
    if (tooDeep(value, MODEL_JSON_MAX_DEPTH) !== undefined) return {};
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

import type { ModelStepRequest } from "../types.js";

type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "tool_result"; tool_use_id: string; content: string; is_error?: true };

type MessageParam = { role: "user"; content: string | ContentBlock[] } | { role: "assistant"; content: ContentBlock[] };

/**
 * The tool a step's answer is forced through, if any. Anthropic has no JSON
 * response format: a step with an output schema and no tools of its own
 * offers one tool taking the schema, and requires it. `requestBody` sends
 * that tool; give the same name to MessagesStreamState so its input comes
 * back as the answer text. A step with tools is not forced (the model must
 * stay free to call them); the engine validates the answer itself.
 */
export function forcedTool(request: ModelStepRequest): string | undefined {
  return request.tools.length === 0 ? request.responseFormat?.name : undefined;
}

/**
 * Our step request as a streamed Messages request body. Anthropic has no
 * system role inside `messages` and wants user and assistant turns to
 * alternate, with a turn's tool results together in one user message.
 */
export function requestBody(model: string, request: ModelStepRequest, options: { defaultMaxTokens: number }): string {
  const system = request.system.length > 0 ? [request.system] : [];
  const messages: MessageParam[] = [];
  // The content of the last message while it is a user turn of tool results, which what follows may join.
  let results: ContentBlock[] | undefined;
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
        if (message.content.length > 0) system.push(message.content);
        break;
      case "user":
        // After tool results the text joins their message, as roles must alternate; Anthropic rejects empty text blocks.
        if (results === undefined) messages.push({ role: "user", content: message.content });
        else if (message.content.length > 0) results.push({ type: "text", text: message.content });
        break;
      case "assistant": {
        const content: ContentBlock[] = [];
        if (message.content.length > 0) content.push({ type: "text", text: message.content });
        for (const call of message.toolCalls ?? []) {
          content.push({ type: "tool_use", id: call.toolUseId, name: call.name, input: call.args });
        }
        // An empty turn says nothing (Anthropic rejects empty content), nor parts the messages around it.
        if (content.length === 0) break;
        messages.push({ role: "assistant", content });
        results = undefined;
        break;
      }
      case "tool": {
        const result: ContentBlock =
          message.error !== undefined
            ? { type: "tool_result", tool_use_id: message.toolUseId, content: message.error, is_error: true }
            : { type: "tool_result", tool_use_id: message.toolUseId, content: message.result ?? "" };
        // Tool results lead their user message: once text has joined it, a later result starts another.
        if (results !== undefined && results[results.length - 1]?.type === "tool_result") results.push(result);
        else {
          results = [result];
          messages.push({ role: "user", content: results });
        }
        break;
      }
    }
  }
  const { temperature, maxTokens } = request.params;
  return JSON.stringify({
    model,
    ...(system.length > 0 ? { system: system.join("\n\n") } : {}),
    messages,
    // Required by Anthropic. `params.seed` has no Anthropic equivalent.
    max_tokens: maxTokens ?? options.defaultMaxTokens,
    ...(temperature !== undefined ? { temperature } : {}),
    stream: true,
    ...toolFields(request),
  });
}

/** The step's tools offered to the model's choice, or else the forced answer tool (see forcedTool), or nothing. */
function toolFields(request: ModelStepRequest): Record<string, unknown> {
  if (request.tools.length > 0) {
    return {
      tools: request.tools.map((tool) => ({
        name: tool.name,
        ...(tool.description.length > 0 ? { description: tool.description } : {}),
        // Anthropic rejects an input_schema without `type: "object"`.
        input_schema: { type: "object", properties: {}, ...tool.parameters },
      })),
      tool_choice: { type: "auto" },
    };
  }
  const format = request.responseFormat;
  if (format === undefined) return {};
  return {
    tools: [{ name: format.name, description: "Give the final answer in this format.", input_schema: format.schema }],
    tool_choice: { type: "tool", name: format.name },
  };
}

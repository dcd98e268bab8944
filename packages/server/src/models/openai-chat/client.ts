import type { ModelInfo } from "@agentd/protocol";
import { describe } from "../http/errors.js";
import { clientEndpoint, parseEvent, streamCall, type ProviderClientOptions, type StreamDecoder } from "../http/sse-call.js";
import { ModelError, type LanguageModel, type ModelStepRequest, type ModelStreamPart } from "../types.js";
import { ChatStreamState, requestBody, type ChatChunk, type MaxTokensField } from "./wire.js";

export interface ChatClientOptions extends ProviderClientOptions {
  /** The field for `params.maxTokens`: `max_completion_tokens` for OpenAI itself, default `max_tokens`. */
  maxTokensField?: MaxTokensField | undefined;
  /** Send the run's outputSchema as `response_format: json_schema` (not every compatible server has it). */
  structuredOutput?: boolean;
}

/**
 * A streaming Chat Completions client written on node:http rather than the
 * AI SDK, because of CPU. Measured with bench/provider-client.mjs (20-delta
 * replies from the fake provider, 2,000 calls, 2-core box, node 20): the AI
 * SDK adapter costs 1.5-2.4 ms of CPU per call (undici fetch, web streams,
 * zod per chunk), 3-5x agentd's budget of 0.5 ms for a whole run; this client
 * 0.20-0.35 ms, of which bare node:http is ~0.1 ms and JSON.parse ~0.03 ms.
 * One keep-alive agent per provider, created here and shared by its models.
 */
export function chatCompletionsProvider(options: ChatClientOptions): (info: ModelInfo) => LanguageModel {
  const target = clientEndpoint(options, "/chat/completions", "authorization");
  const bodyOptions = { maxTokensField: options.maxTokensField };
  const structured = options.structuredOutput ?? false;
  return (info) => ({
    id: info.id,
    info,
    stream: (request) => {
      const step = structured || request.responseFormat === undefined ? request : withoutFormat(request);
      return streamCall(
        target,
        requestBody(info.vendorModelId, step, bodyOptions),
        request.signal,
        new ChatDecoder(options.provider, target.url),
      );
    },
  });
}

function withoutFormat(request: ModelStepRequest): ModelStepRequest {
  const { responseFormat: _unused, ...rest } = request;
  return rest;
}

/** Chat Completions' event stream: one `chat.completion.chunk` per event, `[DONE]` at the end. */
class ChatDecoder implements StreamDecoder {
  private readonly state = new ChatStreamState();

  constructor(
    private readonly provider: string,
    private readonly url: string,
  ) {}

  get complete(): boolean {
    return this.state.finishReason !== undefined;
  }

  read(data: string, parts: ModelStreamPart[]): boolean {
    if (data === "[DONE]") return true;
    const chunk = parseEvent<ChatChunk>(this.provider, this.url, data);
    // Older vLLM streams the error object itself: `{"object":"error","message":...}`.
    const failure = chunk.error ?? (chunk.object === "error" ? chunk : undefined);
    if (failure != null)
      throw new ModelError(this.provider, `${this.provider}: stream error: ${describe(failure)}`, streamErrorOptions(failure));
    this.state.read(chunk, parts);
    return false;
  }

  end(): ModelStreamPart[] {
    return this.state.end();
  }
}

/**
 * An error object in the stream, before any output: retryable when it says
 * the server is overloaded or failing (`server_error`, a 5xx or 429 `code`),
 * as the same failure before the head would have been.
 */
function streamErrorOptions(failure: unknown): { retryable: boolean; status?: number } {
  const fields = (failure ?? {}) as { type?: unknown; code?: unknown };
  const status = typeof fields.code === "number" ? fields.code : undefined;
  const retryable =
    fields.type === "server_error" ||
    fields.code === "server_error" ||
    fields.code === "rate_limit_exceeded" ||
    (status !== undefined && (status === 429 || status >= 500));
  return { retryable, ...(status !== undefined ? { status } : {}) };
}

import type { ModelInfo } from "@agentd/protocol";
import type { LanguageModelV3, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { parseToolArgs, toCallOptions } from "./convert.js";
import { toModelError } from "./provider-error.js";
import { ModelError, type LanguageModel, type ModelStepRequest, type ModelStreamPart } from "./types.js";

export interface AiSdkModelOptions {
  /** The configured provider name, used in error messages. */
  provider: string;
  info: ModelInfo;
  model: LanguageModelV3;
  /** Set when the provider cannot work as configured (e.g. no API key): every call fails with it. */
  configError?: string;
}

/**
 * Adapts one AI SDK v3 model to our LanguageModel: one `doStream` call per
 * step, its parts mapped to ModelStreamParts. The AI SDK's own agent loop and
 * retries are deliberately not used: the engine owns both.
 */
export function aiSdkModel(options: AiSdkModelOptions): LanguageModel {
  return {
    id: options.info.id,
    info: options.info,
    stream: (request) => streamParts(options, request),
  };
}

async function* streamParts(options: AiSdkModelOptions, request: ModelStepRequest): AsyncGenerator<ModelStreamPart> {
  const { provider } = options;
  request.signal.throwIfAborted();
  if (options.configError !== undefined) throw new ModelError(provider, `${provider}: ${options.configError}`);

  let reader: ReadableStreamDefaultReader<LanguageModelV3StreamPart>;
  try {
    reader = (await options.model.doStream(toCallOptions(request))).stream.getReader();
  } catch (error) {
    throw failure(provider, request.signal, error);
  }

  let finished = false;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<LanguageModelV3StreamPart>;
      try {
        next = await reader.read();
      } catch (error) {
        throw failure(provider, request.signal, error, "stream failed");
      }
      if (next.done) break;
      const part = next.value;
      switch (part.type) {
        case "text-delta":
          if (part.delta.length > 0) yield { type: "text-delta", text: part.delta };
          break;
        case "reasoning-delta":
          if (part.delta.length > 0) yield { type: "reasoning-delta", text: part.delta };
          break;
        case "tool-call":
          // Provider-executed tools (web search...) are not ours to run.
          if (part.providerExecuted !== true) {
            yield { type: "tool-call", toolUseId: part.toolCallId, name: part.toolName, args: parseToolArgs(part.input) };
          }
          break;
        case "error":
          throw failure(provider, request.signal, part.error, "stream error");
        case "finish":
          finished = true;
          yield {
            type: "finish",
            usage: { inputTokens: part.usage.inputTokens.total ?? 0, outputTokens: part.usage.outputTokens.total ?? 0 },
            finishReason: part.finishReason.unified,
          };
          break;
      }
    }
  } finally {
    // Reached early when the consumer stops iterating: cancelling the reader
    // closes the HTTP response so the provider stops generating.
    reader.cancel().catch(() => {});
  }
  if (!finished) {
    request.signal.throwIfAborted();
    throw new ModelError(provider, `${provider}: the response stream ended before the model finished`);
  }
}

/** An abort we asked for is not a provider failure: rethrow it as is. */
function failure(provider: string, signal: AbortSignal, error: unknown, during?: string): unknown {
  if (signal.aborted) return signal.reason ?? error;
  return toModelError(provider, error, during);
}

import type { ModelInfo } from "@agentd/protocol";
import { clientEndpoint, parseEvent, streamCall, type ProviderClientOptions, type StreamDecoder } from "../http/sse-call.js";
import type { LanguageModel, ModelStreamPart } from "../types.js";
import { forcedTool, requestBody } from "./request.js";
import { MessagesStreamState, type MessagesEvent } from "./wire.js";

/** The API version every request names (Anthropic's `anthropic-version` header). */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * `max_tokens` when the run sets no `modelParams.maxTokens`: Anthropic
 * requires one. Every current Claude model can write this much; a longer
 * answer ends with stopReason `length`.
 */
export const DEFAULT_MAX_TOKENS = 8192;

/**
 * A streaming Anthropic Messages client on node:http (models/http), for the
 * same reason as openai-chat/client.ts: the AI SDK path cost ~1.2 ms of CPU
 * per call, this one a tenth of that (docs/configuration.md "Providers").
 */
export function messagesProvider(options: ProviderClientOptions): (info: ModelInfo) => LanguageModel {
  const target = clientEndpoint(options, "/messages", "x-api-key", { "anthropic-version": ANTHROPIC_VERSION });
  const bodyOptions = { defaultMaxTokens: DEFAULT_MAX_TOKENS };
  return (info) => ({
    id: info.id,
    info,
    maxTemperature: 1,
    stream: (request) =>
      streamCall(
        target,
        requestBody(info.vendorModelId, request, bodyOptions),
        request.signal,
        new MessagesDecoder(options.provider, target.url, forcedTool(request)),
      ),
  });
}

/** Messages' event stream: the event's type repeated inside its data, `message_stop` at the end. */
class MessagesDecoder implements StreamDecoder {
  private readonly state: MessagesStreamState;

  constructor(
    private readonly provider: string,
    private readonly url: string,
    forced: string | undefined,
  ) {
    this.state = new MessagesStreamState(provider, forced);
  }

  get complete(): boolean {
    return this.state.finished;
  }

  read(data: string, parts: ModelStreamPart[]): boolean {
    const event = parseEvent<MessagesEvent>(this.provider, this.url, data);
    this.state.read(event, parts);
    return this.state.finished;
  }

  end(): ModelStreamPart[] {
    return this.state.end();
  }
}

import type { ModelInfo } from "@agentd/protocol";
import { clientEndpoint, parseEvent, streamCall, type ProviderClientOptions, type StreamDecoder } from "../http/sse-call.js";
import type { LanguageModel, ModelStreamPart } from "../types.js";
import { requestBody, ResponsesStreamState, type ResponsesEvent } from "./wire.js";

/**
 * The OpenAI Responses API on node:http, for the models that only speak it
 * (`models[].api: "responses"` in the provider config). Requests are not
 * stored at OpenAI (`store: false`): the run's checkpoint is the history.
 */
export function responsesProvider(options: ProviderClientOptions): (info: ModelInfo) => LanguageModel {
  const target = clientEndpoint(options, "/responses", "authorization");
  return (info) => ({
    id: info.id,
    info,
    stream: (request) =>
      streamCall(target, requestBody(info.vendorModelId, request), request.signal, new ResponsesDecoder(options.provider, target.url)),
  });
}

/** Responses' event stream ends with `response.completed` (or `.incomplete`), never `[DONE]`. */
class ResponsesDecoder implements StreamDecoder {
  private readonly state: ResponsesStreamState;

  constructor(
    private readonly provider: string,
    private readonly url: string,
  ) {
    this.state = new ResponsesStreamState(provider);
  }

  get complete(): boolean {
    return this.state.finished;
  }

  read(data: string, parts: ModelStreamPart[]): boolean {
    if (data === "[DONE]") return true;
    const event = parseEvent<ResponsesEvent>(this.provider, this.url, data);
    this.state.read(event, parts);
    return this.state.finished;
  }

  end(): ModelStreamPart[] {
    return this.state.end();
  }
}

import http, { type ClientRequest, type IncomingMessage } from "node:http";
import https from "node:https";
import { urlToHttpOptions } from "node:url";
import type { ModelInfo } from "@agentd/protocol";
import { ModelError, type LanguageModel, type ModelStepRequest, type ModelStreamPart } from "../types.js";
import { brokeOff, describe, dropped, httpError, requestFailed } from "./errors.js";
import { SseParser } from "./sse.js";
import { ChatStreamState, requestBody, type ChatChunk } from "./wire.js";

export interface ChatClientOptions {
  /** The configured provider name, used in error messages. */
  provider: string;
  /** Up to and including the version, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  /** Why calls cannot work as configured: every call fails with it. */
  configError?: string | undefined;
}

interface Client {
  provider: string;
  url: string;
  request: typeof http.request;
  options: http.RequestOptions;
  configError: string | undefined;
}

/**
 * A streaming Chat Completions client written on node:http rather than the
 * AI SDK, because of CPU. Measured with bench/provider-client.mjs (20-delta
 * replies from the fake provider, 2,000 calls, 2-core box, node 20): the AI
 * SDK adapter costs 1.5-2.4 ms of CPU per call (undici fetch, web streams,
 * zod per chunk), 3-5x agentd's budget of 0.5 ms for a whole run; this client
 * 0.20-0.35 ms, of which bare node:http is ~0.1 ms and JSON.parse ~0.03 ms.
 * End to end (bench/run.mjs) server CPU per run went from 2.9 to 1.2 ms.
 * One keep-alive agent per provider, created here and shared by its models.
 */
export function chatCompletionsProvider(options: ChatClientOptions): (info: ModelInfo) => LanguageModel {
  const url = new URL(`${options.baseUrl.replace(/\/+$/, "")}/chat/completions`);
  const secure = url.protocol === "https:";
  const agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: 256 });
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (options.apiKey !== undefined && options.apiKey !== "") headers.authorization = `Bearer ${options.apiKey}`;
  // Configured headers win, as they did with the AI SDK; lower-cased so none is sent twice.
  for (const [name, value] of Object.entries(options.headers)) headers[name.toLowerCase()] = value;
  const client: Client = {
    provider: options.provider,
    url: url.href,
    request: secure ? https.request : http.request,
    // Shared by every call: node:http copies it, and sets content-length from end(body).
    options: { ...urlToHttpOptions(url), method: "POST", agent, headers },
    configError: options.configError,
  };
  return (info) => ({ id: info.id, info, stream: (request) => streamChat(client, info.vendorModelId, request) });
}

async function* streamChat(client: Client, model: string, request: ModelStepRequest): AsyncGenerator<ModelStreamPart> {
  const { provider, url } = client;
  const { signal } = request;
  signal.throwIfAborted();
  if (client.configError !== undefined) throw new ModelError(provider, `${provider}: ${client.configError}`);

  let req: ClientRequest | undefined;
  let res: IncomingMessage | undefined;
  const abort = (): void => void req?.destroy();
  signal.addEventListener("abort", abort);
  // Set once the response has been read to its end: only then may the socket go back to the pool.
  let drained = false;
  try {
    try {
      res = await send(client, requestBody(model, request), signal, (sent) => (req = sent));
    } catch (error) {
      signal.throwIfAborted();
      throw requestFailed(provider, url, error);
    }
    // Redirects are not followed: a 3xx is as wrong as a 4xx for an API base URL.
    if (res.statusCode! < 200 || res.statusCode! >= 300) {
      const error = await httpError(provider, url, res);
      drained = true;
      signal.throwIfAborted();
      throw error;
    }

    const parser = new SseParser();
    const state = new ChatStreamState();
    const parts: ModelStreamPart[] = [];
    let done = false;
    // Not destroyed on return: after [DONE] the rest of the body is drained instead (finally).
    const body = res.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Buffer>;
    try {
      read: for await (const chunk of body) {
        for (const data of parser.push(chunk)) {
          signal.throwIfAborted();
          if (data === "[DONE]") {
            done = true;
            for (const part of parts) yield part;
            parts.length = 0;
            // Usually the body's end came in the same packet: read it, so the
            // socket is back in the pool before the caller's next request.
            // Otherwise stop here; it drains in the background (finally).
            if (res.complete) continue read;
            break read;
          }
          if (done) continue;
          let parsed: ChatChunk;
          try {
            parsed = JSON.parse(data) as ChatChunk;
          } catch {
            throw new ModelError(provider, `${provider}: the response from ${url} has a chunk that is not JSON: ${data.slice(0, 200)}`);
          }
          // Older vLLM streams the error object itself: `{"object":"error","message":...}`.
          const failure = parsed.error ?? (parsed.object === "error" ? parsed : undefined);
          if (failure != null) {
            // The text before the error was streamed by the provider: hand it on first.
            for (const part of parts) yield part;
            throw new ModelError(provider, `${provider}: stream error: ${describe(failure)}`);
          }
          state.read(parsed, parts);
        }
        // Everything one network read carried goes out together (deltas joined).
        for (const part of parts) yield part;
        parts.length = 0;
      }
      if (!done) for (const data of parser.end()) if (data === "[DONE]") done = true;
    } catch (error) {
      signal.throwIfAborted();
      throw error instanceof ModelError ? error : dropped(provider, url, error);
    }
    signal.throwIfAborted();
    // Some servers end the body without [DONE]; a finish reason says the answer is whole.
    if (!done && state.finishReason === undefined) throw brokeOff(provider, url, "the stream ended before the model finished");
    drained = true;
    yield* state.end();
  } finally {
    signal.removeEventListener("abort", abort);
    // Drained: let the rest flow so the socket returns to the pool. Otherwise
    // (consumer stopped early, error, abort) close it so the server stops generating.
    if (drained) res?.resume();
    else req?.destroy();
  }
}

/**
 * POSTs `body` and resolves with the response head. A keep-alive socket the
 * server closed while idle fails before any response: the server never saw
 * the request, so it is sent once more, on a new connection outside the pool
 * (the pool's other idle sockets may be closing too: a server's keep-alive
 * timeout ends many at once).
 */
function send(client: Client, body: string, signal: AbortSignal, track: (req: ClientRequest) => void, retried = false): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = client.request(retried ? { ...client.options, agent: false } : client.options, (res) => {
      settled = true;
      resolve(res);
    });
    track(req);
    // Stays attached for the whole call: an 'error' without a listener would crash the process.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      if (!retried && req.reusedSocket && !signal.aborted && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
        resolve(send(client, body, signal, track, true));
      } else reject(error);
    });
    // A request destroyed before it had a socket may close without an 'error'.
    req.on("close", () => {
      if (!settled) reject(new Error("the request closed before a response"));
    });
    req.end(body);
  });
}

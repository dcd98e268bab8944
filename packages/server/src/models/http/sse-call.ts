import http, { type ClientRequest, type IncomingMessage } from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { urlToHttpOptions } from "node:url";
import { ModelError, type ModelStreamPart, type TimeoutKind } from "../types.js";
import { brokeOff, dropped, httpError, REQUEST_CLOSED, requestFailed, timedOut } from "./errors.js";
import { SseParser } from "./sse.js";
import { CallWatchdog, limitOf, type ProviderTimeouts } from "./timeouts.js";

/** Where and how one provider's streamed calls go; built once per provider, shared by its models. */
export interface Endpoint {
  /** The configured provider name, used in error messages. */
  provider: string;
  url: string;
  request: typeof http.request;
  options: http.RequestOptions;
  timeouts: ProviderTimeouts;
  /** Why calls cannot work as configured: every call fails with it. */
  configError: string | undefined;
}

/**
 * A POST endpoint with one keep-alive agent. The options object is shared by
 * every call: node:http copies it, and sets content-length from end(body).
 */
function endpoint(options: {
  provider: string;
  url: URL;
  headers: Record<string, string>;
  timeouts: ProviderTimeouts;
  configError?: string | undefined;
}): Endpoint {
  const secure = options.url.protocol === "https:";
  const agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: 256 });
  return {
    provider: options.provider,
    url: options.url.href,
    request: secure ? https.request : http.request,
    options: { ...urlToHttpOptions(options.url), method: "POST", agent, headers: options.headers },
    timeouts: options.timeouts,
    configError: options.configError,
  };
}

/** What every provider client is built from (models/providers.ts's setup of one provider). */
export interface ProviderClientOptions {
  /** The configured provider name, used in error messages. */
  provider: string;
  /** Up to and including the version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  timeouts: ProviderTimeouts;
  /** Why calls cannot work as configured: every call fails with it. */
  configError?: string | undefined;
}

/**
 * The endpoint `path` under the client's base URL, sending the API key as
 * `keyHeader` (`authorization` gets `Bearer `) and the configured headers,
 * which win; lower-cased so none is sent twice.
 */
export function clientEndpoint(
  options: ProviderClientOptions,
  path: string,
  keyHeader: string,
  fixed: Record<string, string> = {},
): Endpoint {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream", ...fixed };
  if (options.apiKey !== undefined && options.apiKey !== "")
    headers[keyHeader] = keyHeader === "authorization" ? `Bearer ${options.apiKey}` : options.apiKey;
  for (const [name, value] of Object.entries(options.headers)) headers[name.toLowerCase()] = value;
  return endpoint({
    provider: options.provider,
    url: new URL(`${options.baseUrl.replace(/\/+$/, "")}${path}`),
    headers,
    timeouts: options.timeouts,
    configError: options.configError,
  });
}

/** One event's JSON data, or a ModelError quoting what is not JSON. */
export function parseEvent<T>(provider: string, url: string, data: string): T {
  try {
    return JSON.parse(data) as T;
  } catch {
    throw new ModelError(provider, `${provider}: the response from ${url} has an event that is not JSON: ${data.slice(0, 200)}`);
  }
}

/** Turns one protocol's event stream into parts (openai-chat, anthropic-messages, openai-responses). */
export interface StreamDecoder {
  /** One event's data: pushes its parts; true at the protocol's end marker. Throws ModelError for an error event. */
  read(data: string, parts: ModelStreamPart[]): boolean;
  /** A finish reason was seen: a body that ends without the end marker is still a whole answer. */
  readonly complete: boolean;
  /** The tool calls, then the one `finish`. */
  end(): ModelStreamPart[];
}

/**
 * One streamed call over node:http rather than fetch, because of CPU
 * (docs/configuration.md "Providers"): POSTs `body`, reads the event stream
 * through `decoder`, and yields parts as each network read completes them.
 * Enforces the endpoint's four timeouts on one timer. Stopping the
 * iteration early, an abort of `signal` or an error closes the connection so
 * the provider stops generating; a whole answer lets the socket go back to
 * the pool.
 */
export async function* streamCall(
  endpoint: Endpoint,
  body: string,
  signal: AbortSignal,
  decoder: StreamDecoder,
): AsyncGenerator<ModelStreamPart> {
  const { provider, url } = endpoint;
  signal.throwIfAborted();
  if (endpoint.configError !== undefined) throw new ModelError(provider, `${provider}: ${endpoint.configError}`);

  let req: ClientRequest | undefined;
  let res: IncomingMessage | undefined;
  const abort = (): void => void req?.destroy();
  const watchdog = new CallWatchdog(endpoint.timeouts, () => req?.destroy());
  /** The error to throw for a failure: the timeout that caused it, if one did. */
  const failure = (error: unknown, otherwise: (error: unknown) => ModelError): ModelError => {
    signal.throwIfAborted();
    const kind: TimeoutKind | undefined = watchdog.fired;
    if (kind !== undefined) return timedOut(provider, url, kind, limitOf(endpoint.timeouts, kind));
    return error instanceof ModelError ? error : otherwise(error);
  };
  signal.addEventListener("abort", abort);
  // Set once the response has been read to its end: only then may the socket go back to the pool.
  let drained = false;
  try {
    watchdog.connecting();
    try {
      res = await send(endpoint, body, signal, watchdog, (sent) => (req = sent));
    } catch (error) {
      throw failure(error, (cause) => requestFailed(provider, url, cause));
    }
    watchdog.reading();
    // Redirects are not followed: a 3xx is as wrong as a 4xx for an API base URL.
    if (res.statusCode! < 200 || res.statusCode! >= 300) {
      const error = await httpError(provider, url, res);
      drained = true;
      throw failure(undefined, () => error);
    }

    const parser = new SseParser();
    const parts: ModelStreamPart[] = [];
    let done = false;
    // Not destroyed on return: after the end marker the rest of the body is drained instead (finally).
    const chunks = res.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Buffer>;
    try {
      read: for await (const chunk of chunks) {
        watchdog.touch();
        for (const data of parser.push(chunk)) {
          signal.throwIfAborted();
          if (done) continue;
          try {
            done = decoder.read(data, parts);
          } catch (error) {
            // The text before the error was streamed by the provider: hand it on first.
            for (const part of parts) yield part;
            parts.length = 0;
            throw error;
          }
          if (!done) continue;
          for (const part of parts) yield part;
          parts.length = 0;
          // Usually the body's end came in the same packet: read it, so the
          // socket is back in the pool before the caller's next request.
          // Otherwise stop here; it drains in the background (finally).
          if (res.complete) continue read;
          break read;
        }
        // Everything one network read carried goes out together (deltas joined).
        for (const part of parts) yield part;
        parts.length = 0;
      }
      if (!done) for (const data of parser.end()) done = decoder.read(data, parts) || done;
    } catch (error) {
      throw failure(error, (cause) => dropped(provider, url, cause));
    }
    signal.throwIfAborted();
    if (watchdog.fired !== undefined) throw failure(undefined, () => brokeOff(provider, url, "timed out"));
    for (const part of parts) yield part;
    // Some servers end the body without their end marker; a finish reason says the answer is whole.
    if (!done && !decoder.complete) throw brokeOff(provider, url, "the stream ended before the model finished");
    drained = true;
    yield* decoder.end();
  } finally {
    watchdog.stop();
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
function send(
  endpoint: Endpoint,
  body: string,
  signal: AbortSignal,
  watchdog: CallWatchdog,
  track: (req: ClientRequest) => void,
  retried = false,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = endpoint.request(retried ? { ...endpoint.options, agent: false } : endpoint.options, (res) => {
      settled = true;
      resolve(res);
    });
    track(req);
    req.once("socket", (socket: Socket) => {
      // A new connection: its own limit until connected (TLS included); a pooled one is connected already.
      if (!socket.connecting) return watchdog.waitingForHead();
      socket.once(endpoint.options.protocol === "https:" ? "secureConnect" : "connect", () => watchdog.waitingForHead());
    });
    // Stays attached for the whole call: an 'error' without a listener would crash the process.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      if (
        !retried &&
        req.reusedSocket &&
        !signal.aborted &&
        watchdog.fired === undefined &&
        (error.code === "ECONNRESET" || error.code === "EPIPE")
      ) {
        resolve(send(endpoint, body, signal, watchdog, track, true));
      } else reject(error);
    });
    // A request destroyed before it had a socket may close without an 'error'.
    req.on("close", () => {
      if (!settled) reject(new Error(REQUEST_CLOSED));
    });
    req.end(body);
  });
}

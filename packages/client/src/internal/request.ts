import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError, AgentdError, errorFromResponse } from "../errors.js";
import { isRetryableError, retryDelayMs, sleep } from "./retry.js";
import { headers as HEADERS, paths } from "./routes.js";
import { abortable, linkedController } from "./signals.js";

/** Options every SDK method accepts as its last argument. */
export interface RequestOptions {
  /** Aborts the call, including any wait between retries. */
  signal?: AbortSignal;
  /** Per-attempt timeout in milliseconds (for streams: until the response headers arrive). @default the client's `timeoutMs` */
  timeoutMs?: number;
  /** Retries after the first attempt. @default the client's `maxRetries` */
  maxRetries?: number;
  /** Extra headers for this call; they override the client's. */
  headers?: Record<string, string>;
  /** Reused on every retry of this call. @default a random UUID per POST call */
  idempotencyKey?: string;
}

export interface TransportConfig {
  apiKey: string;
  baseUrl: string;
  workspace: string;
  fetch: typeof fetch;
  timeoutMs: number;
  maxRetries: number;
  defaultHeaders: Record<string, string>;
}

export interface Call extends RequestOptions {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A path under the workspace, from `operations` (with `method`) or `paths`. */
  path: string;
  /** A list value becomes a repeated parameter (`?status=a&status=b`). */
  query?: Record<string, string | number | readonly string[] | undefined>;
  body?: unknown;
}

/** The one request pipeline: URL, auth, JSON, timeout, retries, error mapping. */
export class Transport {
  constructor(readonly config: TransportConfig) {}

  url(path: string, query: Call["query"] = {}): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (typeof value === "object") for (const item of value) search.append(key, item);
      else if (value !== undefined) search.set(key, String(value));
    }
    const qs = search.toString();
    return `${this.config.baseUrl}${paths.workspace(this.config.workspace)}${path}${qs ? `?${qs}` : ""}`;
  }

  /** Sends `call` and parses the JSON answer (undefined for an empty body). */
  json<T>(call: Call): Promise<T> {
    return this.send(call, "application/json", async (response) => {
      const text = await response.text();
      if (text === "") return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new AgentdError(`invalid JSON in a ${response.status} response from ${call.method} ${call.path}`, {
          status: response.status,
          cause,
        });
      }
    });
  }

  /**
   * Opens a response whose body the caller reads (SSE). The timeout covers
   * only the wait for headers; the body stays tied to `call.signal`.
   */
  open(call: Call): Promise<Response> {
    return this.send(call, "text/event-stream", async (response) => response, true);
  }

  private async send<R>(call: Call, accept: string, read: (response: Response) => Promise<R>, keepLinked = false): Promise<R> {
    const headers = this.headers(call, accept);
    const maxRetries = call.maxRetries ?? this.config.maxRetries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(call, headers, read, keepLinked);
      } catch (error) {
        if (attempt >= maxRetries || !mayRetry(call, headers, error)) throw error;
        await sleep(retryDelayMs(attempt, error), call.signal);
      }
    }
  }

  private async once<R>(
    call: Call,
    headers: Record<string, string>,
    read: (response: Response) => Promise<R>,
    keepLinked: boolean,
  ): Promise<R> {
    const timeoutMs = call.timeoutMs ?? this.config.timeoutMs;
    const { controller, release } = linkedController(call.signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let ok = false;
    try {
      const init: RequestInit = { method: call.method, headers, signal: controller.signal };
      if (call.body !== undefined) init.body = JSON.stringify(call.body);
      const response = await abortable(this.config.fetch(this.url(call.path, call.query), init), controller.signal);
      if (!response.ok) throw errorFromResponse(response.status, await readErrorBody(response), response.headers);
      const result = await read(response);
      ok = true;
      return result;
    } catch (error) {
      if (AgentdError.isInstance(error)) throw error;
      if (call.signal?.aborted) throw new APIUserAbortError(undefined, { cause: call.signal.reason });
      if (timedOut) throw new APIConnectionTimeoutError(`${call.method} ${call.path} timed out after ${timeoutMs} ms`, { cause: error });
      throw new APIConnectionError(`connection error on ${call.method} ${call.path}: ${describe(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
      if (!(ok && keepLinked)) release();
    }
  }

  private headers(call: Call, accept: string): Record<string, string> {
    const headers: Record<string, string> = { accept, authorization: `Bearer ${this.config.apiKey}` };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    // Made once per logical call so every retry carries the same key: a
    // server that honours it can recognise a POST it already processed.
    if (call.method === "POST") headers[HEADERS.idempotencyKey] = call.idempotencyKey ?? newIdempotencyKey();
    for (const [key, value] of Object.entries({ ...this.config.defaultHeaders, ...call.headers })) headers[key.toLowerCase()] = value;
    return headers;
  }
}

/**
 * A POST without an idempotency key may have been processed before the
 * connection or the server failed, so it is retried only on statuses that
 * say it was not (408, 429).
 */
function mayRetry(call: Call, headers: Record<string, string>, error: unknown): boolean {
  if (!isRetryableError(error)) return false;
  if (call.method !== "POST" || headers[HEADERS.idempotencyKey]) return true;
  const status = AgentdError.isInstance(error) ? error.status : undefined;
  return status === 408 || status === 429;
}

async function readErrorBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => "");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const message = error instanceof Error ? error.message : String(error);
  // undici reports "fetch failed" and hides the useful part in `cause`.
  const detail = cause?.code ?? cause?.message;
  return detail ? `${message} (${detail})` : message;
}

function newIdempotencyKey(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

import type { IncomingMessage } from "node:http";
import { ModelError, type TimeoutKind } from "../types.js";
import { retryAfterMs } from "./retry-after.js";
import { timeoutSetting } from "./timeouts.js";

// The engine shows these messages as the run's error: they name the provider
// and say what failed, in the same shapes as provider-error.ts gives for the
// AI SDK adapters, so a failure reads the same whatever the provider type.
// Each also says whether another attempt may work (models/retry.ts decides).

/** Most of an error body we keep; the rest is drained unread. */
const MAX_ERROR_BODY = 64 * 1024;
const MAX_MESSAGE = 500;

/**
 * Statuses a provider uses for "not now": request timeout, conflict (OpenAI
 * on concurrent use of a resource), rate limited, server errors, Anthropic's
 * 529 overloaded. Everything else (400, 401, 403, 404, 422...) would fail the
 * same way again.
 */
const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504, 529]);

export const isRetryableStatus = (status: number): boolean => RETRYABLE_STATUS.has(status);

/**
 * Connection failures worth another attempt. A name that does not resolve
 * (ENOTFOUND) or a refused TLS certificate is a configuration error; a
 * reset, a refusal (a provider restarting behind its load balancer), a DNS
 * hiccup (EAI_AGAIN) are not.
 */
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);

function transient(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(transient);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined ? TRANSIENT_CODES.has(code) : error instanceof Error && error.message === REQUEST_CLOSED;
}

/** What send() rejects with when a request is closed before any response (no error code). */
export const REQUEST_CLOSED = "the request closed before a response";

/** No response at all: refused, unresolvable, reset before the head. */
export function requestFailed(provider: string, url: string, error: unknown): ModelError {
  return new ModelError(provider, `${provider}: request to ${url} failed: ${describe(error)}`, {
    cause: error,
    retryable: transient(error),
  });
}

/** A limit of provider config `timeouts` was reached; worth another attempt (the engine does not retry after output). */
export function timedOut(provider: string, url: string, kind: TimeoutKind, ms: number): ModelError {
  const what: Record<TimeoutKind, string> = {
    connect: `no connection within ${ms} ms`,
    firstByte: `no response within ${ms} ms of the request`,
    idle: `nothing received for ${ms} ms`,
    total: `the call took longer than ${ms} ms`,
  };
  return new ModelError(provider, `${provider}: ${url}: ${what[kind]} (${timeoutSetting(kind)})`, { retryable: true, timeout: kind });
}

/** The response started, then ended too soon. */
export function brokeOff(provider: string, url: string, reason: string, cause?: unknown): ModelError {
  return new ModelError(provider, `${provider}: the response from ${url} broke off: ${reason}`, {
    retryable: true,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A connection lost mid-body; "terminated" as undici words it for the AI SDK adapters. */
export function dropped(provider: string, url: string, error: unknown): ModelError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // node:http reports a socket closed mid-body as `aborted` with ECONNRESET.
  return brokeOff(provider, url, `terminated (${code === "ECONNRESET" ? "the connection closed" : describe(error)})`, error);
}

/** A status other than 2xx: reads the body (never rejects) for the provider's own message. */
export async function httpError(provider: string, url: string, res: IncomingMessage): Promise<ModelError> {
  const status = res.statusCode ?? 0;
  let text = "";
  res.setEncoding("utf8");
  try {
    // Read to the end even past the cap, so the socket can serve the next call.
    for await (const chunk of res as AsyncIterable<string>) if (text.length < MAX_ERROR_BODY) text += chunk;
  } catch {
    // What arrived before the connection failed is still the best message.
  }
  const message = bodyMessage(text.trim()) || res.statusMessage || "no error message";
  const wait = retryAfterMs(res.headers, status);
  return new ModelError(provider, `${provider}: HTTP ${status} from ${url}: ${message}`, {
    status,
    retryable: isRetryableStatus(status),
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
  });
}

/** `{ error: { message } }` (OpenAI, vLLM, Anthropic...), `{ error: "..." }` (Ollama), `{ message }`, `{ detail }` (FastAPI), else the text. */
function bodyMessage(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown> | null;
    const error = body?.error ?? body;
    if (typeof error === "string") return error;
    if (error !== null && typeof error === "object" && "message" in error && typeof error.message === "string") {
      // Anthropic's `{ type: "error", error: { type: "overloaded_error", message } }`: the type says more than the message.
      const type = body?.type === "error" && "type" in error && typeof error.type === "string" ? `${error.type}: ` : "";
      return `${type}${error.message}`;
    }
    if (typeof body?.detail === "string") return body.detail;
  } catch {
    // Not JSON: an HTML page from a proxy, plain text...
  }
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}...` : text;
}

/** An Error with its code, or an `error` object from a stream chunk. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Node 20 tries every address of a host and reports an AggregateError with an empty message.
    const message = error.message || (error instanceof AggregateError ? error.errors.map((inner) => describe(inner)).join("; ") : "");
    if (message === "") return code ?? error.name;
    return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
  }
  if (typeof error === "string") return error;
  if (error !== null && typeof error === "object" && "message" in error && typeof error.message === "string") {
    const type = "type" in error && typeof error.type === "string" ? `${error.type}: ` : "";
    return `${type}${error.message}`;
  }
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

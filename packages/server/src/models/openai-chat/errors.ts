import type { IncomingMessage } from "node:http";
import { ModelError } from "../types.js";

// The engine shows these messages as the run's error: they name the provider
// and say what failed, in the same shapes as provider-error.ts gives for the
// AI SDK adapters, so a failure reads the same whatever the provider type.

/** Most of an error body we keep; the rest is drained unread. */
const MAX_ERROR_BODY = 64 * 1024;
const MAX_MESSAGE = 500;

/** No response at all: refused, unresolvable, reset before the head. */
export function requestFailed(provider: string, url: string, error: unknown): ModelError {
  return new ModelError(provider, `${provider}: request to ${url} failed: ${describe(error)}`, { cause: error });
}

/** The response started, then ended too soon. */
export function brokeOff(provider: string, url: string, reason: string, cause?: unknown): ModelError {
  return new ModelError(provider, `${provider}: the response from ${url} broke off: ${reason}`, cause === undefined ? {} : { cause });
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
  return new ModelError(provider, `${provider}: HTTP ${status} from ${url}: ${message}`, { status });
}

/** `{ error: { message } }` (OpenAI, vLLM...), `{ error: "..." }` (Ollama), `{ message }`, `{ detail }` (FastAPI), else the text. */
function bodyMessage(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown> | null;
    const error = body?.error ?? body;
    if (typeof error === "string") return error;
    if (error !== null && typeof error === "object" && "message" in error && typeof error.message === "string") return error.message;
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

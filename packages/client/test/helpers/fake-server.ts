/** A scriptable stand-in for the agentd HTTP API, as an injected `fetch`. */
export interface FakeRequest {
  method: string;
  /** The path under `/api/v1/workspaces/<workspace>`, decoded only as far as the URL parser does. */
  path: string;
  url: URL;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
  signal: AbortSignal | undefined;
}

export type Handler = (request: FakeRequest) => Response | Promise<Response>;

export function fakeFetch(handler: Handler): typeof fetch & { requests: FakeRequest[] } {
  const requests: FakeRequest[] = [];
  const fn = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw signal.reason ?? new DOMException("aborted", "AbortError");
    const match = /^\/api\/v1\/workspaces\/[^/]+(\/.*)?$/.exec(url.pathname);
    const request: FakeRequest = {
      method: init.method ?? "GET",
      path: match?.[1] ?? url.pathname,
      url,
      query: url.searchParams,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      signal,
    };
    requests.push(request);
    // Like a real fetch: an abort before the headers rejects the call.
    return await new Promise<Response>((resolve, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason ?? new DOMException("aborted", "AbortError")), { once: true });
      Promise.resolve(handler(request)).then(resolve, reject);
    });
  };
  return Object.assign(fn as typeof fetch, { requests });
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export function errorBody(code: string, message: string, status: number, headers: Record<string, string> = {}): Response {
  return json({ error: message, code, message }, status, headers);
}

/** One SSE frame as agentd writes it. */
export function frame(event: { seq: number; type: string; [key: string]: unknown }): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export const usage = { inputTokens: 1, outputTokens: 2, totalTokens: 3, costUsd: null };
export const at = "2026-01-01T00:00:00.000Z";

/**
 * An SSE response body the test writes to as it goes. Aborting the
 * request's signal errors the body, as a real fetch does.
 */
export function sseStream(signal?: AbortSignal): { response: Response; write: (text: string) => void; close: () => void; cut: () => void; cancelled: Promise<void> } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let markCancelled!: () => void;
  const cancelled = new Promise<void>((resolve) => (markCancelled = resolve));
  let open = true;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: () => {
      open = false;
      markCancelled();
    },
  });
  const encoder = new TextEncoder();
  const end = (how: () => void): void => {
    if (!open) return;
    open = false;
    how();
    markCancelled();
  };
  signal?.addEventListener("abort", () => end(() => controller.error(new DOMException("aborted", "AbortError"))), { once: true });
  return {
    response: new Response(stream, { headers: { "content-type": "text/event-stream" } }),
    write: (text) => open && controller.enqueue(encoder.encode(text)),
    close: () => end(() => controller.close()),
    cut: () => end(() => controller.error(new TypeError("terminated"))),
    cancelled,
  };
}

/** A response whose body is the given SSE frames, then EOF. */
export function sseResponse(text: string): Response {
  return new Response(text, { headers: { "content-type": "text/event-stream" } });
}

export const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

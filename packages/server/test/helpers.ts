import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiKey, createLogger, createServer, openStore, type AgentdConfig, type AgentdServer, type CreateServerOptions, type Logger } from "@agentd/server";
import { captureErrorBody } from "./hygiene/capture.js";

export interface TestServer {
  server: AgentdServer;
  url: string;
  key: string;
  workspace: string;
  /** `/api/v1/workspaces/<workspace>` + path */
  api(path: string): string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "agentd-test-"));
}

/** A real agentd on port 0 with a fresh key; the mock model unless the config says otherwise. */
export async function startTestServer(
  options: { config?: AgentdConfig; env?: Record<string, string | undefined>; dataDir?: string; workspace?: string } & Partial<CreateServerOptions> = {},
): Promise<TestServer> {
  const workspace = options.workspace ?? "acme";
  const store = options.store ?? (options.dataDir ? await openStore({ dataDir: options.dataDir }) : await openStore({ memory: true }));
  const { key } = await createApiKey(store, { workspace });
  const server = await createServer({
    env: {},
    ...options,
    logger: capturedLogger(options.logger),
    store,
    config: options.config ?? {},
  });
  const { url } = await server.listen(0);
  const api = (path: string) => `${url}/api/v1/workspaces/${workspace}${path}`;
  return {
    server,
    url,
    key,
    workspace,
    api,
    async request(method, path, body, headers = {}) {
      const response = await fetch(path.startsWith("http") ? path : api(path), {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      captureErrorBody(response.status, text);
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    close: () => server.close(),
  };
}

/**
 * A test server's logger: the test's own, or a silent one. Loggers of
 * createLogger also write each line to the suite's capture when it is on
 * (src/test-capture.ts); a test's hand-made Logger (which may drop lines) is
 * paired with one that does, so every line is searched (test/hygiene/suite-logs.ts).
 */
function capturedLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) return createLogger("silent");
  if ("child" in logger) return logger;
  const capture = createLogger("silent");
  return {
    info: (fields, message) => (capture.info(fields, message), logger.info(fields, message)),
    warn: (fields, message) => (capture.warn(fields, message), logger.warn(fields, message)),
    error: (fields, message) => (capture.error(fields, message), logger.error(fields, message)),
  };
}

export interface SseFrame {
  id?: string;
  event?: string;
  data: any;
}

/** Reads a whole SSE response (until the server closes it) into frames, plus the raw text. */
export async function readStream(url: string, key: string, headers: Record<string, string> = {}): Promise<{ frames: SseFrame[]; raw: string; status: number }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: "text/event-stream", ...headers } });
  const raw = await response.text();
  return { frames: parseSse(raw), raw, status: response.status };
}

export function parseSse(raw: string): SseFrame[] {
  const frames: SseFrame[] = [];
  for (const block of raw.split("\n\n")) {
    const frame: SseFrame = { data: undefined };
    let hasField = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":") || line.length === 0) continue;
      const colon = line.indexOf(":");
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, "");
      hasField = true;
      if (field === "id") frame.id = value;
      else if (field === "event") frame.event = value;
      else if (field === "data") frame.data = JSON.parse(value);
    }
    if (hasField) frames.push(frame);
  }
  return frames;
}

/** Waits until `check` returns a value (not undefined), polling. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A small deterministic PRNG, so a failing case can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

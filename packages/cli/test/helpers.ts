import type { CliContext } from "../src/index.js";
import type { ServerModule } from "../src/server-module.js";

export interface Captured {
  context: CliContext;
  stdout: () => string;
  stderr: () => string;
  abort: () => void;
}

export function captureContext(overrides: Partial<CliContext> = {}): Captured {
  let out = "";
  let err = "";
  const controller = new AbortController();
  const context: CliContext = {
    env: { AGENTD_API_KEY: "agd_test" },
    cwd: "/tmp",
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    signal: controller.signal,
    loadServer: () => Promise.reject(new Error("no server in this test")),
    ...overrides,
  };
  return { context, stdout: () => out, stderr: () => err, abort: () => controller.abort() };
}

export interface Sent {
  method: string;
  path: string;
  body: unknown;
  headers: Headers;
}

/** A fetch playing agentd: `routes` maps "METHOD /path-under-workspace" to a response factory. */
export function fakeApi(routes: Record<string, (sent: Sent) => Response>): typeof fetch & { sent: Sent[] } {
  const sent: Sent[] = [];
  const fn = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const path = url.pathname.replace(/^\/api\/v1\/workspaces\/[^/]+/, "");
    const request = {
      method: init.method ?? "GET",
      path,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      headers: new Headers(init.headers),
    };
    sent.push(request);
    const route = routes[`${request.method} ${path}`];
    return route ? route(request) : Response.json({ error: "no route", code: "not_found", message: "no route" }, { status: 404 });
  };
  return Object.assign(fn as typeof fetch, { sent });
}

const usage = { inputTokens: 1, outputTokens: 2, totalTokens: 3, costUsd: null };
const at = "2026-01-01T00:00:00.000Z";

export function sseOf(events: Array<{ type: string; [key: string]: unknown }>): Response {
  const text = events.map((event, i) => {
    const full = { seq: i + 1, at, ...event };
    return `id: ${full.seq}\nevent: ${String(full.type)}\ndata: ${JSON.stringify(full)}\n\n`;
  });
  return new Response(text.join(""), { headers: { "content-type": "text/event-stream" } });
}

export function runEvents(
  result: { type: string; [key: string]: unknown } = { type: "result", subtype: "success", text: "Hello there", usage, durationMs: 5 },
) {
  return [
    { type: "started", runId: "run_1", modelId: "mock:default" },
    { type: "assistant_delta", text: "Hello" },
    { type: "assistant_delta", text: " there" },
    result,
  ];
}

/** A fake `@agentd/server` that records what the CLI did with it. */
export function fakeServerModule(
  options: { apiKeys?: number; mock?: boolean; agents?: string[]; configPath?: string | null; listenError?: Error } = {},
) {
  const calls: string[] = [];
  const created: Array<{ workspace: string; name?: string }> = [];
  const store = {
    countApiKeys: async () => options.apiKeys ?? 0,
    close: async () => void calls.push("store.close"),
  };
  const module = {
    DEFAULT_PORT: 7700,
    resolveDataDir: (flag?: string) => flag ?? "/data/.agentd",
    loadConfig: async (flag?: string) => ({ config: {}, path: flag ?? options.configPath ?? null }),
    openStore: async () => store,
    createApiKey: async (_store: unknown, spec: { workspace: string; name?: string }) => {
      // The environment it hashes under is the context's: not part of what was asked for.
      const { env: _env, ...asked } = spec as typeof spec & { env?: unknown };
      created.push(asked);
      return { key: "agd_NEWKEY", id: "key_1", workspace: spec.workspace };
    },
    createServer: async () => ({
      store,
      models: {
        catalog: () => ({
          models: [
            {
              id: "mock:default",
              label: "Mock",
              provider: "mock",
              vendorModelId: "default",
              source: "platform_offering",
              contextWindowTokens: null,
              pricing: null,
              ...(options.mock === false ? {} : { mock: true }),
            },
          ],
          defaultModelId: "mock:default",
        }),
      },
      agents: () => options.agents ?? ["assistant"],
      listen: async (port: number, host?: string, listenOptions?: { backlog?: number }) => {
        const backlog = listenOptions?.backlog !== undefined ? `backlog=${listenOptions.backlog}` : "";
        calls.push([`listen ${port}`, host ?? "", backlog].filter(Boolean).join(" "));
        if (options.listenError) throw options.listenError;
        return { url: `http://127.0.0.1:${port}`, port };
      },
      close: async () => void calls.push("server.close"),
    }),
  };
  return { module: module as unknown as ServerModule, calls, created };
}

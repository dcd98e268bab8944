import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ROUTES, WORKSPACE_PATH, pathParameters, type RouteDeclaration } from "@agentd/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Context, Middleware } from "../../src/http/context.js";
import { registerRoutes, type Handlers } from "../../src/http/register.js";
import { Router } from "../../src/http/router.js";
import { startTestServer, type TestServer } from "../helpers.js";

const table: readonly RouteDeclaration[] = ROUTES;

/** The route's template with `{name}` filled from `ids` (the workspace's slug by default). */
function pathOf(route: RouteDeclaration, ids: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(ids[name] ?? `some-${name}`));
}

/** A bare router with the table registered, handlers and middleware that record what ran. */
function recordingRouter(handlers: Handlers = spyHandlers()) {
  const ran: string[] = [];
  const middleware =
    (name: string): Middleware =>
    (ctx, next) => {
      ran.push(name);
      return next();
    };
  const router = new Router();
  // The recording authenticate sets an all-scopes key, as the real one sets the caller's (the scope check runs next).
  const authenticate: Middleware = (ctx, next) => {
    ctx.key = { scopes: ["*"], agents: [] } as unknown as Context["key"];
    return middleware("authenticate")(ctx, next);
  };
  registerRoutes(router, handlers, { authenticate, idempotent: middleware("idempotent") });
  const dispatch = (method: string, path: string) => {
    ran.length = 0;
    const ctx = { url: new URL(path, "http://agentd"), params: {}, requestId: "req_test" } as unknown as Context;
    // The router throws synchronously for an unknown path: as a rejection, like the server's `await` sees it.
    const reply = new Promise((resolve) => resolve(router.dispatch(ctx, method)));
    return { reply, ctx, ran };
  };
  return { dispatch };
}

function spyHandlers(): Handlers {
  return Object.fromEntries(table.map((route) => [route.operationId, () => ({ status: 200, body: { operationId: route.operationId } })]));
}

describe("registerRoutes", () => {
  it("mounts every route of the table: each request reaches its own handler, with the middleware its declaration asks for", async () => {
    const { dispatch } = recordingRouter();
    for (const route of table) {
      const { reply, ctx, ran } = dispatch(route.method, pathOf(route, { runId: "run_1", sessionId: "ses_1" }));
      expect(await reply, route.operationId).toEqual({ status: 200, body: { operationId: route.operationId } });
      const expected = [
        ...(route.auth === "key" ? ["authenticate"] : []),
        ...(route.headers?.some((h) => h.name === "Idempotency-Key") ? ["idempotent"] : []),
      ];
      expect(ran, route.operationId).toEqual(expected);
      for (const name of pathParameters(route.path)) expect(ctx.params[name], `${route.operationId} {${name}}`).toBeDefined();
    }
  });

  it("decodes path parameters, and still answers 404 and 405 for what the table does not declare", async () => {
    const { dispatch } = recordingRouter();
    const { ctx, reply } = dispatch("GET", "/api/v1/workspaces/acme/agent-runs/run%2F1");
    await reply;
    expect(ctx.params).toEqual({ workspace: "acme", runId: "run/1" });
    await expect(dispatch("GET", "/api/v1/workspaces/acme/nothing").reply).rejects.toMatchObject({ code: "not_found" });
    await expect(dispatch("PUT", "/api/v1/workspaces/acme/agent-runs").reply).rejects.toMatchObject({ code: "method_not_allowed" });
  });

  it("answers 501 not_implemented for a declared route without a handler, after authentication", async () => {
    const { getRun: _missing, ...handlers } = spyHandlers();
    const { dispatch } = recordingRouter(handlers);
    const { reply, ran } = dispatch("GET", "/api/v1/workspaces/acme/agent-runs/run_1");
    await expect(reply).rejects.toMatchObject({ code: "not_implemented", status: 501 });
    expect(ran).toEqual(["authenticate"]);
    // The others are untouched.
    expect(await dispatch("GET", "/api/v1/workspaces/acme/agent-runs").reply).toMatchObject({ body: { operationId: "listRuns" } });
  });
});

describe("the server mounts every route of the table", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());

  it("a request to each reaches a handler: no 404 for want of a route, no 405, no 501", async () => {
    const run = await t.request("POST", "/agent-runs", { systemPrompt: "s", modelId: "mock", prompt: "hello" });
    const session = await t.request("POST", "/agent-sessions", { systemPrompt: "s", modelId: "mock" });
    const ids = { workspace: t.workspace, runId: run.body.runId as string, sessionId: session.body.sessionId as string };
    for (const route of table) {
      const response = await fetch(`${t.url}${pathOf(route, ids)}`, {
        method: route.method,
        headers: { authorization: `Bearer ${t.key}`, ...(route.body ? { "content-type": "application/json" } : {}) },
        ...(route.body ? { body: "{}" } : {}),
      });
      const text = await response.text();
      const what = `${route.operationId}: ${response.status} ${text.slice(0, 200)}`;
      expect([401, 405, 501], what).not.toContain(response.status);
      if (response.status === 404) expect(JSON.parse(text).error, what).not.toMatch(/^no route for/);
    }
  });
});

/**
 * "A route without a test fails" (issue #10), checked by reading the tests:
 * some test must send the route's method to its path. A request is found as
 * a string literal ending with the route's path, its `{name}`s any `${…}` or
 * plain segment, cut at a `?` or the closing quote, and preceded by the
 * method (`t.request("POST", \`/agent-runs/${id}/cancel\``); for a GET, also by
 * `fetch(`, `readStream(` or `api(`. The path is the part after the
 * workspace for workspace routes (how t.request takes it). Deterministic and
 * cheap; it proves a test sends the request, not what it asserts. The fuzz
 * (which derives its requests from the document) and this file (which
 * builds them from the table) do not count.
 */
describe("every route of the table has a test", () => {
  const testRoot = fileURLToPath(new URL("../../../", import.meta.url));
  const sources = ["server/test", "cli/test", "client/test"]
    .flatMap((dir) => (readdirSync(join(testRoot, dir), { recursive: true }) as string[]).map((name) => join(testRoot, dir, name)))
    .filter((path) => path.endsWith(".ts") && !path.includes("/fuzz/") && path !== fileURLToPath(import.meta.url))
    .map((path) => ({ path: relative(testRoot, path), text: readFileSync(path, "utf8") }));

  const requestPattern = (route: RouteDeclaration): RegExp => {
    const path = route.path.startsWith(WORKSPACE_PATH) ? route.path.slice(WORKSPACE_PATH.length) : route.path;
    const tail = path
      .split(/(\{\w+\})/)
      .map((piece) => (piece.startsWith("{") ? "(?:\\$\\{[^}]*\\}|[^/\"'`?\\s]+)" : piece.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("");
    const callers = route.method === "GET" ? `(?:"GET",\\s*|(?:fetch|readStream|api)\\(\\s*)` : `"${route.method}",\\s*`;
    return new RegExp(`${callers}["'\`][^"'\`\\n]*?${tail}(?:\\?[^"'\`\\n]*)?["'\`]`);
  };

  it.each(table.map((route) => [route.operationId, route] as const))("%s", (_operationId, route) => {
    const pattern = requestPattern(route);
    const found = sources.filter(({ text }) => pattern.test(text)).map(({ path }) => path);
    expect(found, `no test sends ${route.method} ${route.path} (looked for ${pattern})`).not.toEqual([]);
  });
});

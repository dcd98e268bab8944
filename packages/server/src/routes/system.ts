import { openApiDocument } from "@agentd/protocol";
import { json, workspaceOf } from "../http/context.js";
import type { Handlers } from "../http/register.js";
import type { AppDeps } from "./deps.js";

/** How long /readyz waits for the store before calling it unreachable. */
const STORE_CHECK_MS = 2_000;

/** Probes, metrics, the document and the model catalog, by operationId; paths and auth come from the route table. */
export function systemHandlers(deps: AppDeps): Handlers {
  let openapi: unknown;
  return {
    getHealth: () => json(200, { ok: true }),
    // Ready when the store answers. A provider's open circuit is shown, not
    // counted: every instance shares the provider, so taking this one out of a
    // load balancer would not help, and runs with fallbacks still work.
    getReadiness: async () => {
      const started = performance.now();
      let store: { ok: boolean; latencyMs: number; error?: string };
      try {
        await withTimeout(deps.storeReachable(), STORE_CHECK_MS);
        store = { ok: true, latencyMs: round(performance.now() - started) };
      } catch (error) {
        store = { ok: false, latencyMs: round(performance.now() - started), error: (error as Error).message };
      }
      return json(store.ok ? 200 : 503, { status: store.ok ? "ready" : "unavailable", store, providers: deps.models.circuits?.() ?? [] });
    },
    // Unauthenticated, like /healthz, for Prometheus: provider names and counts, nothing of any workspace.
    getMetrics: async (ctx) => {
      const text = await deps.metrics.text();
      ctx.res.writeHead(200, { "content-type": deps.metrics.contentType, "x-request-id": ctx.requestId });
      ctx.res.end(text);
    },
    getOpenApiDocument: () => json(200, (openapi ??= openApiDocument())),
    listModels: (ctx) => {
      workspaceOf(ctx);
      return json(200, deps.models.catalog());
    },
  };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import { ModelCatalog } from "../models.js";
import { OkResponse } from "../runs.js";
import { API_PREFIX } from "../wire.js";
import { defineRoute } from "./route.js";

/** Probes, metrics and this document: no key, outside any workspace. And the one workspace route that is not about runs. */
export const systemRoutes = {
  getHealth: defineRoute({
    operationId: "getHealth",
    method: "GET",
    path: "/healthz",
    summary: "Liveness",
    tag: "system",
    auth: "none",
    responses: { 200: { description: "OK", schema: OkResponse } },
  }),
  getReadiness: defineRoute({
    operationId: "getReadiness",
    method: "GET",
    path: "/readyz",
    summary: "Readiness: the store answers (503 when not), and every provider's circuit breaker",
    tag: "system",
    auth: "none",
    // Not an error body: the same report as the 200, saying what is down.
    responses: { 200: { description: "Ready" }, 503: { description: "The store does not answer" } },
  }),
  getMetrics: defineRoute({
    operationId: "getMetrics",
    method: "GET",
    path: "/metrics",
    summary: "Prometheus metrics",
    tag: "system",
    auth: "none",
    responses: { 200: { description: "Text exposition format", mediaType: "text/plain" } },
  }),
  getOpenApiDocument: defineRoute({
    operationId: "getOpenApiDocument",
    method: "GET",
    path: "/openapi.json",
    summary: "This document",
    tag: "system",
    auth: "none",
    responses: { 200: { description: "The OpenAPI 3.1 document" } },
  }),
  listModels: defineRoute({
    operationId: "listModels",
    method: "GET",
    path: `${API_PREFIX}/{workspace}/models`,
    summary: "List runnable models",
    tag: "models",
    auth: "key",
    scope: "agents:read",
    responses: { 200: { description: "Catalog", schema: ModelCatalog } },
  }),
} as const;

import type { z } from "zod";
import type { KeyScope } from "../keys.js";
import type { RequestHeader } from "./headers.js";

/** Groups of operations: the document's tags, a generator's resources (`client.runs.create`). */
export const TAGS = {
  system: "Probes, metrics and this document; no key",
  models: "What the workspace can run",
  runs: "Agent runs: start, follow, answer, decide, cancel",
  sessions: "Conversations whose messages are runs on a shared history",
  traces: "What a run did: its spans (model steps, tool calls, waits), usage and cost",
  usage: "Token, call and cost totals of a workspace's runs, by agent, model, day or key",
  agents: "The agents registry: agents, their revisions and tags",
  keys: "API keys of the workspace, their scopes and agents (keys:admin)",
  settings: "A workspace's settings: how long its ended runs are kept",
} as const;

/*
 * One route, declared once (issue #10): the server registers its handler by
 * `operationId`, the OpenAPI document is generated from it, the SDK's path
 * copy is generated from it, and the tests enumerate it. The shape follows
 * hono's zod-openapi `createRoute` objects, flattened to what agentd uses.
 */

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * `key`: an API key of the path's workspace (`Authorization: Bearer` or
 * `X-API-Key`), so the route answers 401 and 404 (another workspace's key).
 * `none`: open to anyone (probes, metrics, this document).
 */
export type Auth = "key" | "none";

/**
 * The statuses a route can answer with besides its successes, as the route
 * states them: what its own logic refuses. Those implied by its shape (401
 * for a key, 400/413/415 for a body, 409/422 for an Idempotency-Key, 500 and
 * 503 everywhere) are added by `errorStatuses` in errors.ts, so a
 * declaration cannot forget them.
 */
export type ErrorStatus = 400 | 403 | 404 | 409 | 429 | 503;

/** A query parameter as a client sends it (the zod schema parses strings, so its JSON Schema would not say this). */
export interface QueryParameter {
  name: string;
  description: string;
  /** JSON Schema of one value. */
  schema: Record<string, unknown>;
  /** Repeatable (`?status=a&status=b`): `style: form, explode: true` of an array. */
  repeated?: boolean;
}

export interface SuccessResponse {
  description: string;
  /** @default "application/json" */
  mediaType?: "application/json" | "text/event-stream" | "text/plain";
  /** JSON: the body; `text/event-stream`: each frame's data. Named in schemas.ts. Absent: a body the schema cannot say (text, any object). */
  schema?: z.ZodType;
}

export interface RouteDeclaration {
  /** camelCase verb + noun (`createRun`, `listRuns`): what a client generator names the method after, and the handler's key. */
  operationId: string;
  method: Method;
  /** OpenAPI template: `{name}` for a path parameter, described in PATH_PARAMETERS. */
  path: string;
  summary: string;
  /** Groups operations in the document (a generator's resource: `client.runs.create`). */
  tag: keyof typeof TAGS;
  auth: Auth;
  /**
   * The scope a key needs to call the route (issue #12; `*` has them all);
   * required of every `auth: "key"` route (a test walks the table). A key
   * without it is a 403.
   */
  scope?: KeyScope;
  /** Query parameters: their wire form, and the zod schema that parses them (when the route validates them as an object). */
  query?: { parameters: readonly QueryParameter[]; schema?: z.ZodType };
  headers?: readonly RequestHeader[];
  /** JSON request body; `required: false` lets it be empty (the route reads `{}`). */
  body?: { schema: z.ZodType; required: boolean };
  /** By status: 200, 201, 202; also the documented non-error bodies of other statuses (`/readyz`'s 503). */
  responses: Readonly<Record<number, SuccessResponse>>;
  errors?: readonly ErrorStatus[];
}

/** Identity, so that each declaration keeps its literal types (`operationId`, `path`) for the table's keys and the handlers' map. */
export function defineRoute<const R extends RouteDeclaration>(route: R): R {
  return route;
}

/** `{runId}` … of a template, in order. */
export function pathParameters(template: string): string[] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
}

/** One string per `{name}` of a template: the arguments of its path builder. */
export type PathArguments<T extends string> = T extends `${string}{${string}}${infer Rest}` ? [string, ...PathArguments<Rest>] : [];

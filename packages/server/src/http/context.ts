import type { IncomingMessage, ServerResponse } from "node:http";
import { addLimitHeaders, type LimitState } from "../limits/headers.js";
import type { ApiKeyRecord, WorkspaceRecord } from "../store/types.js";

export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  requestId: string;
  /** The matched route's path template (`/api/v1/workspaces/{workspace}/agent-runs/{runId}`), for the request log. */
  route?: string;
  /** Set by the auth middleware on workspace routes. */
  workspace?: WorkspaceRecord;
  /** The key that authenticated the request (auth middleware): its scopes and agent allowlist. */
  key?: ApiKeyRecord;
}

/** What a JSON handler returns; a handler that wrote the response itself returns nothing. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: Context) => Promise<Reply | void> | Reply | void;
export type Middleware = (ctx: Context, next: () => Promise<Reply | void>) => Promise<Reply | void>;

export function json(status: number, body: unknown): Reply {
  return { status, body };
}

export function keyOf(ctx: Context): ApiKeyRecord {
  if (!ctx.key) throw new Error("route needs the auth middleware");
  return ctx.key;
}

export function workspaceOf(ctx: Context): WorkspaceRecord {
  if (!ctx.workspace) throw new Error("route needs the auth middleware");
  return ctx.workspace;
}

/**
 * Who made the request: its workspace, its API key's id (runs record it;
 * GET /usage groups by it), the key's agent allowlist, and the key itself
 * with a way to put its limits' RateLimit headers on the answer (runs/service.ts).
 */
export function callerOf(ctx: Context): {
  workspace: WorkspaceRecord;
  keyId: string | null;
  agents: readonly string[];
  key: ApiKeyRecord | undefined;
  report: (state: LimitState) => void;
} {
  return {
    workspace: workspaceOf(ctx),
    keyId: ctx.key?.id ?? null,
    agents: ctx.key?.agents ?? [],
    key: ctx.key,
    report: (state) => addLimitHeaders(ctx.res, state),
  };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type { WorkspaceRecord } from "../store/types.js";

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
  /** The id of the API key that authenticated the request (`key_…`), set with `workspace`: what a run records as its key (GET /usage?groupBy=key). */
  keyId?: string;
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

export function workspaceOf(ctx: Context): WorkspaceRecord {
  if (!ctx.workspace) throw new Error("route needs the auth middleware");
  return ctx.workspace;
}

/** Who made the request: its workspace and its API key's id (runs record the key; GET /usage groups by it). */
export function callerOf(ctx: Context): { workspace: WorkspaceRecord; keyId: string | null } {
  return { workspace: workspaceOf(ctx), keyId: ctx.keyId ?? null };
}

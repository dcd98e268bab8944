import { CreateSessionRequest, SessionMessageRequest } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import { parseJson } from "../http/body.js";
import { json, workspaceOf, type Middleware } from "../http/context.js";
import type { Router } from "../http/router.js";
import type { AppDeps } from "./deps.js";

export function sessionRoutes(router: Router, base: string, authenticate: Middleware, deps: AppDeps): void {
  const { sessions, runs, limits } = deps;

  router.on("POST", `${base}/agent-sessions`, authenticate, deps.idempotent, async (ctx) => {
    const body = await parseJson(ctx, CreateSessionRequest, limits);
    return json(201, await sessions.create(workspaceOf(ctx), body));
  });

  router.on("GET", `${base}/agent-sessions/:sessionId`, authenticate, async (ctx) =>
    json(200, await sessions.info(workspaceOf(ctx), ctx.params.sessionId!)),
  );

  router.on("DELETE", `${base}/agent-sessions/:sessionId`, authenticate, async (ctx) => {
    await sessions.end(workspaceOf(ctx), ctx.params.sessionId!);
    return json(200, { ok: true });
  });

  router.on("POST", `${base}/agent-sessions/:sessionId/messages`, authenticate, deps.idempotent, async (ctx) => {
    const workspace = workspaceOf(ctx);
    const body = await parseJson(ctx, SessionMessageRequest, limits);
    const session = await sessions.get(workspace, ctx.params.sessionId!);
    if (session.status === "ended") throw new AgentdError("session_ended", `session ${session.id} has ended; create a new session`);
    return json(202, await runs.createInSession(workspace, session, body));
  });
}

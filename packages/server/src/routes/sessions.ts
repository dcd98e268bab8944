import { routes } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import { parseJson } from "../http/body.js";
import { callerOf, json, workspaceOf } from "../http/context.js";
import type { Handlers } from "../http/register.js";
import type { AppDeps } from "./deps.js";

/** The sessions' handlers, by operationId; paths, auth and idempotency come from the route table. */
export function sessionHandlers(deps: AppDeps): Handlers {
  const { sessions, runs, limits } = deps;
  return {
    createSession: async (ctx) => {
      const body = await parseJson(ctx, routes.createSession.body.schema, limits);
      return json(201, await sessions.create(workspaceOf(ctx), body, callerOf(ctx).agents));
    },

    getSession: async (ctx) => json(200, await sessions.info(workspaceOf(ctx), ctx.params.sessionId!)),

    endSession: async (ctx) => {
      await sessions.end(workspaceOf(ctx), ctx.params.sessionId!);
      return json(200, { ok: true });
    },

    sendSessionMessage: async (ctx) => {
      const workspace = workspaceOf(ctx);
      const body = await parseJson(ctx, routes.sendSessionMessage.body.schema, limits);
      const session = await sessions.get(workspace, ctx.params.sessionId!);
      if (session.status === "ended") throw new AgentdError("session_ended", `session ${session.id} has ended; create a new session`);
      return json(202, await runs.createInSession(workspace, session, body, callerOf(ctx)));
    },
  };
}

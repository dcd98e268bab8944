import { routes } from "@agentd/protocol";
import { parseJson } from "../http/body.js";
import { json, workspaceOf } from "../http/context.js";
import { parseQuery } from "../http/query.js";
import type { Handlers } from "../http/register.js";
import type { AppDeps } from "./deps.js";

/** The agents registry's handlers (issue #11), by operationId; paths and auth come from the route table. */
export function agentHandlers(deps: AppDeps): Handlers {
  const { agents, limits } = deps;
  return {
    createAgent: async (ctx) =>
      json(201, await agents.create(workspaceOf(ctx), await parseJson(ctx, routes.createAgent.body.schema, limits))),

    listAgents: async (ctx) =>
      json(200, await agents.list(workspaceOf(ctx), parseQuery(ctx.url.searchParams, routes.listAgents.query.schema))),

    getAgent: async (ctx) => json(200, await agents.get(workspaceOf(ctx), ctx.params.agentId!)),

    deleteAgent: async (ctx) => {
      await agents.delete(workspaceOf(ctx), ctx.params.agentId!);
      return json(200, { ok: true });
    },

    createAgentRevision: async (ctx) => {
      const body = await parseJson(ctx, routes.createAgentRevision.body.schema, limits);
      return json(201, await agents.addRevision(workspaceOf(ctx), ctx.params.agentId!, body));
    },

    listAgentRevisions: async (ctx) => {
      const query = parseQuery(ctx.url.searchParams, routes.listAgentRevisions.query.schema);
      return json(200, await agents.revisions(workspaceOf(ctx), ctx.params.agentId!, query));
    },

    getAgentRevision: async (ctx) => json(200, await agents.revision(workspaceOf(ctx), ctx.params.agentId!, ctx.params.revision!)),

    listAgentTags: async (ctx) => json(200, { tags: await agents.tags(workspaceOf(ctx)) }),

    putAgentTag: async (ctx) => {
      const body = await parseJson(ctx, routes.putAgentTag.body.schema, limits);
      return json(200, await agents.putTag(workspaceOf(ctx), ctx.params.tag!, body));
    },

    deleteAgentTag: async (ctx) => {
      await agents.deleteTag(workspaceOf(ctx), ctx.params.tag!);
      return json(200, { ok: true });
    },
  };
}

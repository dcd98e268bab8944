import { z } from "zod";
import { Budgets, ModelParams, OutputSchema } from "./agent.js";
import { ToolRef } from "./tools.js";

/*
 * The agents registry (issue #11): agents a workspace defines over the API,
 * each an ordered list of immutable revisions, and tags naming one revision
 * each (`production`), which runs can name instead of a prompt.
 */

/** A registry agent's id: lower case, so ids read alike in URLs, logs and tags. */
export const REGISTRY_AGENT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const AGENT_TAG_PATTERN = /^[a-z0-9][a-z0-9\-_]*$/;
export const AGENT_TAG_MAX_LENGTH = 64;

export const RegistryAgentId = z.string().regex(REGISTRY_AGENT_ID_PATTERN, "must match ^[a-z0-9][a-z0-9_-]{0,63}$");
export const AgentTagName = z
  .string()
  .max(AGENT_TAG_MAX_LENGTH, `at most ${AGENT_TAG_MAX_LENGTH} characters`)
  .regex(AGENT_TAG_PATTERN, "must match ^[a-z0-9][a-z0-9\\-_]*$");
/** Revision numbers start at 1; the bound keeps them in a 32-bit column. */
export const AgentRevisionNumber = z.number().int().min(1).max(2_147_483_647);

/** What a revision holds: the definition a run executes (what `agentd.config.*` agents define, minus what stays per run). */
export const AgentDefinitionFields = {
  systemPrompt: z.string().min(1).max(200_000),
  modelId: z.string().min(1).max(300).optional(),
  modelParams: ModelParams.optional(),
  tools: z.array(ToolRef).max(128).optional(),
  outputSchema: OutputSchema.optional(),
  budgets: Budgets.optional(),
};
export const AgentDefinitionBody = z.strictObject(AgentDefinitionFields);
export type AgentDefinitionBody = z.infer<typeof AgentDefinitionBody>;

/** `POST /agents`: an id, optional labels, and revision 1's definition. */
export const CreateAgentRequest = z.strictObject({
  id: RegistryAgentId,
  name: z.string().max(200).optional(),
  description: z.string().max(4096).optional(),
  ...AgentDefinitionFields,
});
export type CreateAgentRequest = z.infer<typeof CreateAgentRequest>;

/** `POST /agents/{agentId}/revisions`: the next revision's definition (a revision is never edited). */
export const CreateAgentRevisionRequest = AgentDefinitionBody;
export type CreateAgentRevisionRequest = z.infer<typeof CreateAgentRevisionRequest>;

/** Where an agent is defined: over the API (`registry`, revisioned) or in the server's config file (`config`, read-only). */
export const AgentSource = z.enum(["registry", "config"]);

/** `GET /agents/{agentId}`: the current definition, its revision, and the tags naming it. */
export const AgentInfo = z.object({
  id: z.string(),
  source: AgentSource,
  name: z.string().nullable(),
  description: z.string().nullable(),
  /** Null for a config agent (it has no revisions). */
  latestRevision: z.number().int().nullable(),
  definition: z.record(z.string(), z.unknown()),
  /** Tags naming any revision of this agent. */
  tags: z.array(z.object({ tag: z.string(), revision: z.number().int() })),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

export const CreateAgentResponse = AgentInfo.extend({ revision: z.number().int() });
export type CreateAgentResponse = z.infer<typeof CreateAgentResponse>;

export const AgentRevisionInfo = z.object({
  agentId: z.string(),
  revision: z.number().int(),
  definition: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type AgentRevisionInfo = z.infer<typeof AgentRevisionInfo>;

export const CreateAgentRevisionResponse = z.object({ agentId: z.string(), revision: z.number().int() });
export type CreateAgentRevisionResponse = z.infer<typeof CreateAgentRevisionResponse>;

export const AgentTagInfo = z.object({ tag: z.string(), agentId: z.string(), revision: z.number().int(), updatedAt: z.string() });
export type AgentTagInfo = z.infer<typeof AgentTagInfo>;

/** `PUT /agent-tags/{tag}`: the revision the tag names from now on. */
export const PutAgentTagRequest = z.strictObject({ agentId: RegistryAgentId, revision: AgentRevisionNumber });
export type PutAgentTagRequest = z.infer<typeof PutAgentTagRequest>;

export const ListAgentTagsResponse = z.object({ tags: z.array(AgentTagInfo) });
export type ListAgentTagsResponse = z.infer<typeof ListAgentTagsResponse>;

/** Page sizes of `GET /agents` and `GET /agents/{agentId}/revisions`. */
export const LIST_AGENTS_LIMIT = { default: 20, max: 100 } as const;

const pageLimit = z
  .string()
  .transform((value, ctx) => {
    const limit = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
    if (!(limit >= 1 && limit <= LIST_AGENTS_LIMIT.max)) {
      ctx.addIssue({ code: "custom", message: `must be an integer from 1 to ${LIST_AGENTS_LIMIT.max}` });
    }
    return limit;
  })
  .default(LIST_AGENTS_LIMIT.default);

/** Query of both listings: a page size and a previous page's opaque `nextCursor`. */
export const ListAgentsQuery = z.strictObject({
  limit: pageLimit,
  cursor: z.string().min(1).max(512).optional(),
});
export type ListAgentsQuery = z.infer<typeof ListAgentsQuery>;

export const ListAgentsResponse = z.object({ agents: z.array(AgentInfo), nextCursor: z.string().nullable() });
export type ListAgentsResponse = z.infer<typeof ListAgentsResponse>;

export const ListAgentRevisionsResponse = z.object({ revisions: z.array(AgentRevisionInfo), nextCursor: z.string().nullable() });
export type ListAgentRevisionsResponse = z.infer<typeof ListAgentRevisionsResponse>;

/** How a run or session request may name a registry agent, beside `agentId` (AgentSpecFields). */
export const AgentNamingFields = {
  /** A tag of the workspace (`production`): the revision it names when the run is created. */
  tag: AgentTagName.optional(),
  /** With `agentId`: this revision instead of the latest. */
  revision: AgentRevisionNumber.optional(),
};

/**
 * A run names its agent exactly one way (issue #11): `tag`, `agentId`
 * (latest revision, or `revision`), or an inline `systemPrompt`. Two ways,
 * or none, is an issue on each field involved, the message naming them all.
 */
export function checkAgentNaming(
  body: { tag?: string | undefined; agentId?: string | undefined; revision?: number | undefined; systemPrompt?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const ways = [
    ...(body.tag !== undefined ? ["tag"] : []),
    ...(body.agentId !== undefined ? ["agentId"] : []),
    ...(body.systemPrompt !== undefined && body.systemPrompt.length > 0 ? ["systemPrompt"] : []),
  ];
  if (ways.length === 0) {
    ctx.addIssue({ code: "custom", path: ["systemPrompt"], message: "systemPrompt is required unless tag or agentId is set" });
  } else if (ways.length > 1) {
    const message = `name the agent one way: ${ways.join(" and ")} were both given (send tag, agentId with an optional revision, or systemPrompt)`;
    for (const field of ways) ctx.addIssue({ code: "custom", path: [field], message });
  }
  if (body.revision !== undefined && body.agentId === undefined) {
    ctx.addIssue({ code: "custom", path: ["revision"], message: "revision needs agentId (a tag already names its revision)" });
  }
}

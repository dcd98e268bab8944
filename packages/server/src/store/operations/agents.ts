import { AgentdError } from "../../errors.js";
import { AGENT_REVISIONS, AGENT_TAGS, AGENTS } from "../schema/tables.js";
import { first, one, query, type Operation } from "../sql/operation.js";
import type { AgentListing, AgentRecord, AgentReference, AgentRevisionRecord, AgentTagRecord, ResolvedAgent } from "../types.js";

/* The agents registry (issue #11), once for both stores. */

/** Run in a transaction: the agent and its revision 1 exist together or not at all. */
export function* createAgent(agent: AgentRecord, definition: Record<string, unknown>): Operation<void> {
  const revision: AgentRevisionRecord = {
    workspaceId: agent.workspaceId,
    agentId: agent.id,
    revision: 1,
    definition,
    createdAt: agent.createdAt,
  };
  yield {
    queries: [
      query("insertAgent", AGENTS.values({ ...agent, latestRevision: 1 }), {
        duplicate: `agent ${agent.id} already exists`,
        missingParent: `workspace ${agent.workspaceId} not found`,
      }),
      query("insertAgentRevision", AGENT_REVISIONS.values(revision), { duplicate: `agent ${agent.id} already has revision 1` }),
    ],
    last: true,
  };
}

export function* getAgent(workspaceId: string, agentId: string): Operation<AgentRecord | undefined> {
  const row = (yield first("agentById", [workspaceId, agentId]))[0]!.rows[0];
  return row === undefined ? undefined : AGENTS.fromRow(row);
}

export function* listAgents(
  workspaceId: string,
  page: { limit: number; after?: { createdAt: string; id: string } },
): Operation<AgentListing[]> {
  if (!(page.limit >= 1)) return [];
  const limit = Math.floor(page.limit);
  const batch =
    page.after === undefined
      ? one("listAgents", [workspaceId, limit])
      : one("listAgentsAfter", [workspaceId, page.after.createdAt, page.after.id, limit]);
  return (yield batch)[0]!.rows.map((row) => {
    const { definition, ...agent } = row;
    return { ...AGENTS.fromRow(agent), definition: JSON.parse(definition as string) as Record<string, unknown> };
  });
}

/** Run in a transaction: the bump and the insert commit together, so a failed insert leaves no gap. */
export function* addAgentRevision(
  workspaceId: string,
  agentId: string,
  definition: Record<string, unknown>,
  now: string,
): Operation<AgentRevisionRecord> {
  const bumped = (yield one("bumpAgentRevision", [now, workspaceId, agentId]))[0]!.rows[0] as { revision: number } | undefined;
  if (bumped === undefined) throw new AgentdError("not_found", `agent ${agentId} not found`);
  const record: AgentRevisionRecord = { workspaceId, agentId, revision: Number(bumped.revision), definition, createdAt: now };
  yield {
    queries: [
      query("insertAgentRevision", AGENT_REVISIONS.values(record), {
        duplicate: `agent ${agentId} already has revision ${record.revision}`,
      }),
    ],
    last: true,
  };
  return record;
}

export function* getAgentRevision(workspaceId: string, agentId: string, revision: number): Operation<AgentRevisionRecord | undefined> {
  const row = (yield first("agentRevision", [workspaceId, agentId, revision]))[0]!.rows[0];
  return row === undefined ? undefined : AGENT_REVISIONS.fromRow(row);
}

export function* listAgentRevisions(
  workspaceId: string,
  agentId: string,
  page: { limit: number; before?: number },
): Operation<AgentRevisionRecord[]> {
  if (!(page.limit >= 1)) return [];
  const before = page.before ?? 2_147_483_647;
  return (yield one("listAgentRevisions", [workspaceId, agentId, before, Math.floor(page.limit)]))[0]!.rows.map(AGENT_REVISIONS.fromRow);
}

/** Run in a transaction: the agent goes and its tags with it. */
export function* deleteAgent(workspaceId: string, agentId: string, now: string): Operation<boolean> {
  const [deleted] = yield {
    queries: [query("deleteAgent", [now, now, workspaceId, agentId]), query("deleteAgentTags", [workspaceId, agentId])],
    last: true,
  };
  return deleted!.changes > 0;
}

/**
 * Run in a transaction: the agent is read locked (PostgreSQL), so a delete
 * racing this cannot leave a tag on a deleted agent; the revision's
 * existence is the foreign key's to check.
 */
export function* putAgentTag(tag: AgentTagRecord): Operation<AgentTagRecord> {
  const live = (yield first("liveAgentForUpdate", [tag.workspaceId, tag.agentId]))[0]!.rows[0];
  if (live === undefined) throw new AgentdError("not_found", `agent ${tag.agentId} not found`);
  const [answer] = yield {
    queries: [query("upsertAgentTag", AGENT_TAGS.values(tag), { missingParent: `agent ${tag.agentId} has no revision ${tag.revision}` })],
    last: true,
  };
  return AGENT_TAGS.fromRow(answer!.rows[0]!);
}

export function* getAgentTag(workspaceId: string, tag: string): Operation<AgentTagRecord | undefined> {
  const row = (yield first("agentTag", [workspaceId, tag]))[0]!.rows[0];
  return row === undefined ? undefined : AGENT_TAGS.fromRow(row);
}

export function* listAgentTags(workspaceId: string, agentId?: string): Operation<AgentTagRecord[]> {
  const batch = agentId === undefined ? one("listAgentTags", [workspaceId]) : one("agentTagsOf", [workspaceId, agentId]);
  return (yield batch)[0]!.rows.map(AGENT_TAGS.fromRow);
}

export function* deleteAgentTag(workspaceId: string, tag: string): Operation<boolean> {
  return (yield one("deleteAgentTag", [workspaceId, tag]))[0]!.changes > 0;
}

export function* resolveAgent(workspaceId: string, reference: AgentReference): Operation<ResolvedAgent | undefined> {
  const batch =
    "tag" in reference
      ? first("resolveAgentTag", [workspaceId, reference.tag])
      : reference.revision === undefined
        ? first("resolveAgentLatest", [workspaceId, reference.agentId])
        : first("resolveAgentRevision", [reference.revision, workspaceId, reference.agentId]);
  const row = (yield batch)[0]!.rows[0] as { agentId: string; revision: number | string; definition: string } | undefined;
  if (row === undefined) return undefined;
  return {
    agentId: row.agentId,
    revision: Number(row.revision),
    tag: "tag" in reference ? reference.tag : null,
    definition: JSON.parse(row.definition) as Record<string, unknown>,
  };
}

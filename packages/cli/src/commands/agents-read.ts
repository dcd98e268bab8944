import type { AgentInfo } from "@agentd/protocol";
import { clientFrom, type CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { formatAgent, formatAgentTable, formatRevisionTable, type ShownAgent } from "./agents-format.js";
import { parseLimit } from "./args.js";
import { firstItems } from "./list-filters.js";
import { parseRevision } from "./args.js";

export const DEFAULT_AGENTS_LIMIT = 50;

export async function agentsListCommand(flags: { limit?: string; json?: boolean }, context: CliContext): Promise<number> {
  const limit = parseLimit(flags.limit, DEFAULT_AGENTS_LIMIT);
  const client = clientFrom(context);
  const { items: agents, more } = await firstItems(
    (pageSize) => client.registry.list({ limit: pageSize }, { signal: context.signal }),
    limit,
  );
  if (flags.json) {
    for (const agent of agents) context.stdout.write(`${JSON.stringify(agent)}\n`);
    return 0;
  }
  context.stdout.write(
    agents.length === 0 ? "no agents: create one with agentd agents create <id> --system-prompt <text>\n" : formatAgentTable(agents),
  );
  if (more) context.stderr.write(`(showing the first ${limit}; use --limit to see more)\n`);
  return 0;
}

/** The agent as GET /agents/{id} has it, with `revision` (the one shown) and that revision's definition. */
export async function agentsShowCommand(
  agentId: string,
  flags: { revision?: string; json?: boolean },
  context: CliContext,
): Promise<number> {
  const revision = flags.revision === undefined ? undefined : parseRevision("--revision", flags.revision);
  const client = clientFrom(context);
  const agent = await client.registry.get(agentId, { signal: context.signal });
  const shown: ShownAgent = { ...agent, revision: agent.latestRevision, revisionCreatedAt: agent.updatedAt };
  if (revision !== undefined && revision !== agent.latestRevision) {
    if (agent.source === "config") throw configHasNoRevisions(agent);
    const found = await client.registry.getRevision(agentId, revision, { signal: context.signal });
    Object.assign(shown, { revision: found.revision, revisionCreatedAt: found.createdAt, definition: found.definition });
  }
  context.stdout.write(flags.json ? `${JSON.stringify(shown, null, 2)}\n` : formatAgent(shown));
  return 0;
}

export async function agentsRevisionsCommand(
  agentId: string,
  flags: { limit?: string; json?: boolean },
  context: CliContext,
): Promise<number> {
  const limit = parseLimit(flags.limit, DEFAULT_AGENTS_LIMIT);
  const client = clientFrom(context);
  // The agent first: a config agent is said so, and its tags label the revisions.
  const agent = await client.registry.get(agentId, { signal: context.signal });
  if (agent.source === "config") throw configHasNoRevisions(agent);
  const { items: revisions, more } = await firstItems(
    (pageSize) => client.registry.listRevisions(agentId, { limit: pageSize }, { signal: context.signal }),
    limit,
  );
  if (flags.json) {
    for (const revision of revisions) context.stdout.write(`${JSON.stringify(revision)}\n`);
    return 0;
  }
  context.stdout.write(formatRevisionTable(revisions, agent.tags));
  if (more) context.stderr.write(`(showing the newest ${limit}; use --limit to see more)\n`);
  return 0;
}

const configHasNoRevisions = (agent: AgentInfo): CliError =>
  new CliError(
    `agent ${agent.id} is defined in the server's config file: it has no revisions (agentd agents show ${agent.id} shows its definition)`,
  );

import type { Agentd } from "@agentd/client";
import { clientFrom, type CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { formatTagTable } from "./agents-format.js";
import { parseRevision } from "./args.js";

/** Creates or moves a tag; without a revision, to the agent's latest. Says where the tag pointed before, when it moved. */
export async function agentsTagCommand(
  tag: string,
  agentId: string,
  revisionArgument: string | undefined,
  context: CliContext,
): Promise<number> {
  const revision = revisionArgument === undefined ? undefined : parseRevision("<revision>", revisionArgument);
  const client = clientFrom(context);
  const [before, target] = await Promise.all([
    client.registry.listTags({ signal: context.signal }).then((tags) => tags.find((known) => known.tag === tag)),
    revision ?? latestRevision(client, agentId, context.signal),
  ]);
  const moved = await client.registry.putTag(tag, { agentId, revision: target }, { signal: context.signal });
  const was =
    before && (before.agentId !== moved.agentId || before.revision !== moved.revision)
      ? ` (was ${before.agentId} revision ${before.revision})`
      : "";
  context.stdout.write(`${moved.tag} → ${moved.agentId} revision ${moved.revision}${was}\n`);
  return 0;
}

export async function agentsTagsCommand(flags: { agent?: string; json?: boolean }, context: CliContext): Promise<number> {
  const tags = (await clientFrom(context).registry.listTags({ signal: context.signal })).filter(
    (tag) => flags.agent === undefined || tag.agentId === flags.agent,
  );
  if (flags.json) {
    for (const tag of tags) context.stdout.write(`${JSON.stringify(tag)}\n`);
    return 0;
  }
  context.stdout.write(formatTagTable(tags));
  return 0;
}

export async function agentsUntagCommand(tag: string, context: CliContext): Promise<number> {
  await clientFrom(context).registry.deleteTag(tag, { signal: context.signal });
  context.stdout.write(`deleted tag ${tag}\n`);
  return 0;
}

async function latestRevision(client: Agentd, agentId: string, signal: AbortSignal): Promise<number> {
  const agent = await client.registry.get(agentId, { signal });
  if (agent.latestRevision === null)
    throw new CliError(`agent ${agentId} is defined in the server's config file: only registry agents can be tagged`);
  return agent.latestRevision;
}

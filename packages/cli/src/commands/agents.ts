import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { agentsListCommand, agentsRevisionsCommand, agentsShowCommand, DEFAULT_AGENTS_LIMIT } from "./agents-read.js";
import { agentsTagCommand, agentsTagsCommand, agentsUntagCommand } from "./agents-tags.js";
import { agentsCreateCommand, agentsDeleteCommand, agentsReviseCommand, type DefinitionFlags } from "./agents-write.js";

const NOT_FOUND = "exit code 3 if there is no such agent";

/**
 * `agentd agents ...`: the agents registry (issue #11, docs/agents.md) over
 * HTTP. Like `agentd runs`, these talk to a server through the SDK only.
 */
export function registerAgents(program: Command, context: CliContext, done: (exitCode: number) => void): void {
  const agents = program
    .command("agents")
    .description("the agents registry: agents, their revisions and the tags naming them")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  agentd agents create support --system-prompt 'You answer support questions.' --model mock",
        "  agentd agents revise support --file support.json       # the file is the whole new definition",
        "  agentd agents revise support --model provider:openai:gpt-4o-mini   # the latest definition, one field changed",
        "  agentd agents tag production support 2",
        "  agentd run --tag production -m 'Where is my order?'",
        "  agentd agents show support --revision 1",
      ].join("\n"),
    );
  agents
    .command("list")
    .description("list agents, newest first; the server's config agents come first")
    .option("--limit <n>", `how many agents to print (default ${DEFAULT_AGENTS_LIMIT})`)
    .option("--json", "print one JSON agent per line")
    .action(async (flags: { limit?: string; json?: boolean }) => done(await agentsListCommand(flags, context)));
  agents
    .command("show")
    .description(`show an agent's definition (prompt, model, params, tools, output schema, budgets), revision and tags; ${NOT_FOUND}`)
    .argument("<agentId>", "the agent's id")
    .option("--revision <n>", "show this revision's definition instead of the latest")
    .option("--json", "print the agent as JSON (GET /agents/{id}, with `revision` and that revision's definition)")
    .action(async (agentId: string, flags: { revision?: string; json?: boolean }) =>
      done(await agentsShowCommand(agentId, flags, context)),
    );
  definitionOptions(
    agents
      .command("create")
      .description("create a registry agent at revision 1")
      .argument("<agentId>", "its id: lower case letters, digits, - and _ (^[a-z0-9][a-z0-9_-]{0,63}$)"),
    "the agent",
  )
    .option("--name <name>", "a display name")
    .option("--description <text>", "what the agent is for")
    .action(async (agentId: string, flags: DefinitionFlags) => done(await agentsCreateCommand(agentId, flags, context)));
  definitionOptions(
    agents
      .command("revise")
      .description(`add the next revision: the --file's definition, or else the latest one with the flags' changes; ${NOT_FOUND}`)
      .argument("<agentId>", "the agent's id"),
    "the revision",
  ).action(async (agentId: string, flags: DefinitionFlags) => done(await agentsReviseCommand(agentId, flags, context)));
  agents
    .command("revisions")
    .description(`list an agent's revisions, newest first, with the tags naming them; ${NOT_FOUND}`)
    .argument("<agentId>", "the agent's id")
    .option("--limit <n>", `how many revisions to print (default ${DEFAULT_AGENTS_LIMIT})`)
    .option("--json", "print one JSON revision per line")
    .action(async (agentId: string, flags: { limit?: string; json?: boolean }) =>
      done(await agentsRevisionsCommand(agentId, flags, context)),
    );
  agents
    .command("delete")
    .description(`delete an agent and its tags (runs that used it stay readable; its id is never reused); ${NOT_FOUND}`)
    .argument("<agentId>", "the agent's id")
    .action(async (agentId: string) => done(await agentsDeleteCommand(agentId, context)));
  agents
    .command("tag")
    .description("point a tag at a revision of an agent, creating or moving it in one change")
    .argument("<tag>", "the tag (^[a-z0-9][a-z0-9_-]*$, e.g. production)")
    .argument("<agentId>", "the agent")
    .argument("[revision]", "the revision (default: the agent's latest)")
    .action(async (tag: string, agentId: string, revision: string | undefined) =>
      done(await agentsTagCommand(tag, agentId, revision, context)),
    );
  agents
    .command("tags")
    .description("list the workspace's tags and the revisions they name")
    .option("--agent <id>", "only the tags naming this agent")
    .option("--json", "print one JSON tag per line")
    .action(async (flags: { agent?: string; json?: boolean }) => done(await agentsTagsCommand(flags, context)));
  agents
    .command("untag")
    .description("delete a tag (runs already made with it keep their revision); exit code 3 if there is no such tag")
    .argument("<tag>", "the tag")
    .action(async (tag: string) => done(await agentsUntagCommand(tag, context)));
}

/** The definition's sources, shared by `create` and `revise`. */
function definitionOptions(command: Command, what: string): Command {
  return command
    .option("--file <path>", `a JSON file with ${what}'s definition: systemPrompt, modelId, modelParams, tools, outputSchema, budgets`)
    .option("--system-prompt <text>", "the system prompt (over the file's)")
    .option("--model <id>", "the model id (over the file's; see agentd models)")
    .option("--json", "print the server's answer as JSON");
}

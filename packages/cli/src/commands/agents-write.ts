import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import type { AgentDefinitionBody, CreateAgentRequest } from "@agentd/protocol";
import { clientFrom, type CliContext } from "../context.js";
import { UsageError } from "../errors.js";

export interface DefinitionFlags {
  file?: string;
  systemPrompt?: string;
  model?: string;
  name?: string;
  description?: string;
  json?: boolean;
}

/** The agent's own labels: set at create, not part of a revision. */
const AGENT_LABELS = ["name", "description"] as const;

export async function agentsCreateCommand(agentId: string, flags: DefinitionFlags, context: CliContext): Promise<number> {
  const file = flags.file === undefined ? undefined : readDefinitionFile(flags.file, agentId, context);
  const body: Record<string, unknown> = {
    ...file?.labels,
    ...file?.definition,
    ...overrides(flags),
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.description !== undefined ? { description: flags.description } : {}),
    id: agentId,
  };
  if (typeof body.systemPrompt !== "string" || body.systemPrompt.length === 0) {
    throw new UsageError("an agent needs a system prompt: give --system-prompt <text>, or --file <agent.json> with a systemPrompt");
  }
  const created = await clientFrom(context).registry.create(body as CreateAgentRequest, { signal: context.signal });
  context.stdout.write(
    flags.json ? `${JSON.stringify(created, null, 2)}\n` : `created agent ${created.id} at revision ${created.revision}\n`,
  );
  return 0;
}

/**
 * With `--file`, the file is the whole new definition (the flags over it);
 * without, the latest revision's definition with the flags' changes, so
 * `agentd agents revise support --model x` changes one field.
 */
export async function agentsReviseCommand(agentId: string, flags: DefinitionFlags, context: CliContext): Promise<number> {
  const changes = overrides(flags);
  if (flags.file === undefined && Object.keys(changes).length === 0) {
    throw new UsageError("say what the new revision changes: --file <agent.json>, --system-prompt <text> or --model <id>");
  }
  const client = clientFrom(context);
  let base: Record<string, unknown>;
  if (flags.file !== undefined) {
    const file = readDefinitionFile(flags.file, agentId, context);
    // An exported agent carries its labels as they are; a definition file with them asks for a change a revision cannot make.
    const labels = Object.keys(file.labels);
    if (!file.exported && labels.length > 0) {
      throw new UsageError(
        `--file: ${labels.join(" and ")} belong to the agent, not to a revision: remove them from ${flags.file} (they are set at create)`,
      );
    }
    base = file.definition;
  } else {
    base = (await client.registry.get(agentId, { signal: context.signal })).definition;
  }
  const added = await client.registry.addRevision(agentId, { ...base, ...changes } as AgentDefinitionBody, { signal: context.signal });
  context.stdout.write(flags.json ? `${JSON.stringify(added, null, 2)}\n` : `added revision ${added.revision} of agent ${added.agentId}\n`);
  return 0;
}

export async function agentsDeleteCommand(agentId: string, context: CliContext): Promise<number> {
  await clientFrom(context).registry.delete(agentId, { signal: context.signal });
  context.stdout.write(`deleted agent ${agentId} and its tags\n`);
  return 0;
}

function overrides(flags: DefinitionFlags): Record<string, string> {
  return {
    ...(flags.systemPrompt !== undefined ? { systemPrompt: flags.systemPrompt } : {}),
    ...(flags.model !== undefined ? { modelId: flags.model } : {}),
  };
}

/** What a definition file holds: the definition, and the agent's labels when it has them. */
export interface DefinitionFile {
  definition: Record<string, unknown>;
  labels: Record<string, unknown>;
  /** True for what `agentd agents show --json` prints (the definition under `definition`). */
  exported: boolean;
}

/**
 * A definition file: one JSON object, either the definition's fields (with
 * `name` and `description` for create), or what `agentd agents show --json`
 * prints, so an agent can be exported, edited and revised. An `id` in it must
 * be the agent's. The server checks the fields; the CLI only makes sure
 * there is an object to send.
 */
export function readDefinitionFile(path: string, agentId: string, context: CliContext): DefinitionFile {
  if ([".yaml", ".yml"].includes(extname(path).toLowerCase())) {
    throw new UsageError(`--file: ${path}: YAML is not read (agentd has no YAML parser); write the definition as JSON`);
  }
  let text: string;
  try {
    text = readFileSync(resolve(context.cwd, path), "utf8");
  } catch (error) {
    throw new UsageError(`--file: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--file: ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new UsageError(`--file: ${path} must hold a JSON object, like {"systemPrompt": "You help."}`);
  if (value.id !== undefined && value.id !== agentId) {
    throw new UsageError(`--file: ${path} is for agent ${JSON.stringify(value.id)}, not ${JSON.stringify(agentId)}`);
  }
  const labels = Object.fromEntries(AGENT_LABELS.filter((label) => value[label] != null).map((label) => [label, value[label]]));
  if (isObject(value.definition)) return { definition: value.definition, labels, exported: true };
  const { id: _id, name: _name, description: _description, ...definition } = value;
  return { definition, labels, exported: false };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

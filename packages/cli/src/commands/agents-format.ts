import type { AgentInfo, AgentRevisionInfo, AgentTagInfo } from "@agentd/protocol";
import { formatFields, formatTable, oneLine, shortTime } from "./format.js";

/** `agentd agents show`: the agent, with the revision shown (null for a config agent) and when that revision was made. */
export type ShownAgent = AgentInfo & { revision: number | null; revisionCreatedAt: string | null };

/** The definition fields `show` prints on a line of their own; any other (a config agent's `approval`, ...) follows as JSON. */
const SHOWN_FIELDS = new Set(["systemPrompt", "modelId", "modelParams", "tools", "outputSchema", "budgets"]);

/** Width of the prompt column of the listings. */
const PROMPT_WIDTH = 50;

export function formatAgentTable(agents: AgentInfo[]): string {
  return formatTable([
    ["ID", "SOURCE", "REVISION", "MODEL", "TAGS", "NAME"],
    ...agents.map((agent) => [
      agent.id,
      agent.source,
      agent.latestRevision === null ? "-" : String(agent.latestRevision),
      text(agent.definition.modelId) ?? "(default)",
      agent.tags.map(({ tag, revision }) => `${tag}@${revision}`).join(",") || "-",
      agent.name ?? "",
    ]),
  ]);
}

export function formatRevisionTable(revisions: AgentRevisionInfo[], tags: AgentInfo["tags"]): string {
  if (revisions.length === 0) return "no revisions\n";
  return formatTable([
    ["REVISION", "CREATED", "MODEL", "TAGS", "PROMPT"],
    ...revisions.map((revision) => [
      String(revision.revision),
      shortTime(revision.createdAt),
      text(revision.definition.modelId) ?? "(default)",
      tags
        .filter((tag) => tag.revision === revision.revision)
        .map((tag) => tag.tag)
        .join(",") || "-",
      oneLine(text(revision.definition.systemPrompt) ?? "", PROMPT_WIDTH),
    ]),
  ]);
}

export function formatTagTable(tags: AgentTagInfo[]): string {
  if (tags.length === 0) return "no tags: set one with agentd agents tag <tag> <agentId> [revision]\n";
  return formatTable([
    ["TAG", "AGENT", "REVISION", "UPDATED"],
    ...tags.map((tag) => [tag.tag, tag.agentId, String(tag.revision), shortTime(tag.updatedAt)]),
  ]);
}

/** Seed 003's "agent config": what the agent is, what it runs with, then its prompt in full. */
export function formatAgent(agent: ShownAgent): string {
  const { definition } = agent;
  const revision =
    agent.revision === null
      ? "- (a config agent: read-only, defined in the server's config file)"
      : `${agent.revision} of ${agent.latestRevision}${agent.revisionCreatedAt ? `, created ${shortTime(agent.revisionCreatedAt)}` : ""}`;
  const fields: Array<[string, string]> = [
    ["agent", `${agent.id} (${agent.source})`],
    ["name", agent.name ?? "-"],
    ["description", agent.description ?? "-"],
    ["revision", revision],
    ["tags", agent.tags.map(({ tag, revision: named }) => `${tag} → ${named}`).join(", ") || "-"],
    ["created", shortTime(agent.createdAt)],
    ["model", text(definition.modelId) ?? "- (the server's default)"],
    ["params", pairs(definition.modelParams)],
    ["budgets", pairs(definition.budgets)],
    ["tools", Array.isArray(definition.tools) && definition.tools.length > 0 ? definition.tools.map(describeTool).join(", ") : "-"],
    ...Object.entries(definition)
      .filter(([key]) => !SHOWN_FIELDS.has(key))
      .map(([key, value]): [string, string] => [key, JSON.stringify(value)]),
  ];
  let out = formatFields(fields);
  if (definition.outputSchema !== undefined) out += `\noutput schema:\n${indent(JSON.stringify(definition.outputSchema, null, 2))}\n`;
  out += `\nsystem prompt:\n${indent(text(definition.systemPrompt) ?? "")}\n`;
  return out;
}

/** `lookup_order (local)`, `search (http GET https://…)`, `files.read (mcp files/read)`. */
function describeTool(tool: unknown): string {
  if (typeof tool !== "object" || tool === null) return JSON.stringify(tool);
  const { kind, name, method, url, server, tool: remote } = tool as Record<string, unknown>;
  const detail =
    kind === "http" ? `http ${String(method)} ${String(url)}` : kind === "mcp" ? `mcp ${String(server)}/${String(remote)}` : String(kind);
  return `${String(name)} (${detail})`;
}

/** `temperature=0.2, maxTokens=512`; nested values as JSON. */
function pairs(value: unknown): string {
  if (typeof value !== "object" || value === null) return "-";
  const entries = Object.entries(value).map(
    ([key, entry]) => `${key}=${typeof entry === "object" ? JSON.stringify(entry) : String(entry)}`,
  );
  return entries.join(", ") || "-";
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const indent = (block: string): string =>
  block
    .split("\n")
    .map((line) => (line ? `  ${line}` : line))
    .join("\n");

import type { AgentSpec, ToolRef } from "@agentd/protocol";
import { REDACTED, redactCredentials } from "./http/index.js";

/**
 * The agent spec as snapshots show it (GET agent-runs/{id}, the run listing,
 * GET agent-sessions/{id}): a copy in which HTTP tools' literal header values
 * and URL credentials (`https://user:pass@…`) read `[redacted]` (issue #8).
 * Any API key of the workspace may read a snapshot, and a literal header of
 * an operator's tool is as secret as an `{ env }` one. `{ env }` references are
 * kept as they are: they name a variable (and a prefix like "Bearer "), not
 * its value, and tell whoever reads the run what it needs. The stored spec is
 * not touched: the engine still sends the real values.
 */
export function redactAgentSpec(spec: AgentSpec): AgentSpec {
  if (!spec.tools?.some((tool) => tool.kind === "http")) return spec;
  return { ...spec, tools: spec.tools.map(redactTool) };
}

function redactTool(tool: ToolRef): ToolRef {
  if (tool.kind !== "http") return tool;
  const copy = { ...tool, url: redactCredentials(tool.url) };
  if (tool.headers) {
    copy.headers = Object.fromEntries(
      Object.entries(tool.headers).map(([name, value]) => [name, typeof value === "string" ? REDACTED : value]),
    );
  }
  return copy;
}

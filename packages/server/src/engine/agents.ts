import type { AgentDefinition, AgentSpec, ToolRef } from "@agentd/protocol";
import { AgentdError } from "../errors.js";

/** The agent fields a run or session request may carry (seed 004 §4). */
export type AgentSpecInput = Omit<AgentSpec, never>;

/**
 * Resolves the spec a run executes: an ephemeral agent as given, or a named
 * agent from the config with the request merged on top (seed 004 §4.1: the
 * stored prompt wins; request tools are added; request model, params and
 * budgets override; metadata is merged, request keys winning).
 *
 * The request's own tools must have been checked as request-defined
 * (ServerTools.validateRequestTools: no secret references, request hosts
 * only) before this merge: afterwards nothing tells them from the agent's.
 * The agent's refs are copied as written, which is what lets
 * tools/provenance.ts recognise them again when the stored run is resolved.
 */
export function resolveAgentSpec(input: AgentSpecInput, agents: Record<string, AgentDefinition>): AgentSpec {
  if (input.agentId === undefined) {
    return { ...input, tools: input.tools ?? [] };
  }
  const agent = Object.hasOwn(agents, input.agentId) ? agents[input.agentId] : undefined;
  if (!agent) {
    throw new AgentdError("not_found", `agent '${input.agentId}' not found`, {
      hint: "Named agents come from the server's config file (agents: { ... }).",
      candidates: Object.keys(agents),
    });
  }
  const tools = mergeTools(agent.tools ?? [], input.tools ?? []);
  const metadata = { ...agent.metadata, ...input.metadata };
  const spec: AgentSpec = {
    agentId: input.agentId,
    name: input.name ?? agent.name ?? input.agentId,
    systemPrompt: agent.systemPrompt,
    tools,
  };
  const modelId = input.modelId ?? agent.modelId;
  if (modelId !== undefined) spec.modelId = modelId;
  const fallbackModelIds = input.fallbackModelIds ?? agent.fallbackModelIds;
  if (fallbackModelIds !== undefined) spec.fallbackModelIds = fallbackModelIds;
  const modelParams = { ...agent.modelParams, ...input.modelParams };
  if (Object.keys(modelParams).length > 0) spec.modelParams = modelParams;
  const budgets = { ...agent.budgets, ...input.budgets };
  if (Object.keys(budgets).length > 0) spec.budgets = budgets;
  const approval = { ...agent.approval, ...input.approval };
  if (Object.keys(approval).length > 0) spec.approval = approval;
  const outputSchema = input.outputSchema ?? agent.outputSchema;
  if (outputSchema !== undefined) spec.outputSchema = outputSchema;
  if (Object.keys(metadata).length > 0) spec.metadata = metadata;
  return spec;
}

function mergeTools(base: ToolRef[], extra: ToolRef[]): ToolRef[] {
  const names = new Set(base.map((tool) => tool.name));
  for (const [index, tool] of extra.entries()) {
    if (names.has(tool.name)) {
      throw new AgentdError("invalid_request", `tools.${index}.name: the agent already has a tool named '${tool.name}'`, {
        issues: [{ path: `tools.${index}.name`, message: `duplicate tool name '${tool.name}'` }],
      });
    }
    names.add(tool.name);
  }
  return [...base, ...extra];
}

/** Rejects two tools with one name in a spec: the model could not tell them apart. */
export function assertUniqueToolNames(tools: ToolRef[]): void {
  const seen = new Set<string>();
  for (const [index, tool] of tools.entries()) {
    if (seen.has(tool.name)) {
      throw new AgentdError("invalid_request", `tools.${index}.name: duplicate tool name '${tool.name}'`, {
        issues: [{ path: `tools.${index}.name`, message: `duplicate tool name '${tool.name}'` }],
      });
    }
    seen.add(tool.name);
  }
}

import type { AgentDefinition, ToolRef } from "@agentd/protocol";

/**
 * Who wrote a tool ref (issue #8). `operator`: the server config (a named
 * agent's `tools` in agentd.config.json / agentd.config.ts); such a tool may
 * read the server's environment (`{ env }` headers) and reach the private
 * destinations of `httpTools.allow`. `request`: anyone with an API key, in a
 * run or session body; such a tool may not read any secret of the server, and
 * its HTTP requests go only to `httpTools.requestAllow` hosts.
 */
export type ToolOrigin = "operator" | "request";

/** The run (or session) a ref belongs to: the named agent it was created from, if any. */
export interface ToolOwner {
  agentId?: string | null | undefined;
}

/**
 * Decides, from the stored spec alone, whether a ref is the operator's.
 *
 * A run's spec holds the config agent's tools and the request's merged in one
 * list (resolveAgentSpec), it is stored, and it is resolved again whenever
 * the run resumes (after a restart, on another worker). Nothing in a ref says
 * where it came from, and a flag in the stored spec could be forged by a
 * request or survive a config change. So the answer is recomputed at resolve
 * time from what only the operator controls: a ref is operator-defined only
 * if the run names a config agent (`agentId`) that, in the config as it is
 * now, has a tool of that name deep-equal to the ref. Everything else is
 * request-defined. A request cannot pass as the operator (its tools are
 * checked before the merge, and a copy of an operator tool grants nothing the
 * agent does not already offer), and a run whose operator tool was edited in
 * the config since it was stored fails closed: its old ref is now treated as
 * request-defined.
 */
export function toolOrigin(ref: ToolRef, owner: ToolOwner, agents: Record<string, AgentDefinition>): ToolOrigin {
  const agent = owner.agentId !== undefined && owner.agentId !== null && Object.hasOwn(agents, owner.agentId) ? agents[owner.agentId] : undefined;
  const operator = (agent?.tools ?? []).some((tool) => tool.name === ref.name && sameJson(tool, ref));
  return operator ? "operator" : "request";
}

/**
 * Where a ref reads the server's secrets, as paths relative to the ref
 * (`headers.Authorization`). Today the only way is an HTTP tool's `{ env }`
 * header value: code tools run the config's code by name, MCP refs name a
 * configured server (its headers and environment go only to that server),
 * URLs and literal headers carry what the request itself wrote.
 */
export function secretReferences(ref: ToolRef): Array<{ path: string; message: string }> {
  if (ref.kind !== "http") return [];
  return Object.entries(ref.headers ?? {})
    .filter(([, value]) => typeof value !== "string")
    .map(([name]) => ({
      path: `headers.${name}`,
      message:
        "reads the server's environment ({ \"env\": … }), which only tools defined in the server config may do; a request's own tools may not read the server's secrets",
    }));
}

/** Deep equality of JSON values, treating an undefined property as absent (a JSON round trip drops it). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => sameJson(item, b[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  const other = Object.keys(right).filter((key) => right[key] !== undefined);
  return keys.length === other.length && keys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]));
}

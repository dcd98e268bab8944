import type { ToolParameters, ToolRef } from "@agentd/protocol";
import type { ToolOwner } from "../tools/provenance.js";
import type { ServerTool } from "../tools/types.js";
import { checkSchema, describeIssues } from "./schema-check.js";

/** Turns tool refs of the server kinds into runnable tools (server.ts wires them). */
export interface ToolResolvers {
  /**
   * `owner`: the run's named agent, from which the resolver decides whether
   * the ref is the operator's or the request's (tools/provenance.ts);
   * undefined when the caller does not know it.
   */
  resolve(ref: Exclude<ToolRef, { kind: "local" }>, owner: ToolOwner): Promise<ServerTool>;
}

export interface ToolEntry {
  name: string;
  description: string;
  parameters: ToolParameters;
  requiresApproval: boolean;
  executor: "local" | "server";
  /** Set for server tools. */
  server?: ServerTool;
}

const EMPTY_OBJECT_SCHEMA: ToolParameters = { type: "object", properties: {} };

/** The tools of one run, by name, as the model sees them and the engine runs them. */
export class ToolSet {
  private constructor(private readonly entries: Map<string, ToolEntry>) {}

  /**
   * `owner` is the run's spec (its `agentId`): pass it, so that only the
   * named agent's own config tools count as the operator's (issue #8).
   */
  static async resolve(refs: ToolRef[], resolvers: ToolResolvers, owner: ToolOwner): Promise<ToolSet> {
    const entries = new Map<string, ToolEntry>();
    for (const ref of refs) {
      if (ref.kind === "local") {
        entries.set(ref.name, {
          name: ref.name,
          description: ref.description ?? "",
          parameters: ref.parameters ?? EMPTY_OBJECT_SCHEMA,
          requiresApproval: ref.requiresApproval ?? false,
          executor: "local",
        });
        continue;
      }
      const server = await resolvers.resolve(ref, owner);
      entries.set(ref.name, {
        name: ref.name,
        description: ref.description ?? server.description,
        parameters: ref.parameters ?? server.parameters,
        requiresApproval: ref.requiresApproval ?? false,
        executor: "server",
        server,
      });
    }
    return new ToolSet(entries);
  }

  get(name: string): ToolEntry | undefined {
    return this.entries.get(name);
  }

  /** What the model is offered. */
  forModel(): Array<{ name: string; description: string; parameters: Record<string, unknown> }> {
    return [...this.entries.values()].map(({ name, description, parameters }) => ({ name, description, parameters }));
  }

  /** Why these arguments may not be passed to the tool, or undefined when they fit its schema. */
  invalidArguments(entry: ToolEntry, args: Record<string, unknown>): string | undefined {
    const issues = checkSchema(entry.parameters, args);
    return issues.length === 0 ? undefined : `invalid arguments for tool '${entry.name}': ${describeIssues(issues)}`;
  }
}

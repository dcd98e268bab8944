import type { ToolParameters } from "@agentd/protocol";

/** What a server tool receives besides its arguments. */
export interface ToolContext {
  /** Aborted when the run is cancelled or the tool's timeout passes: stop work and return. */
  signal: AbortSignal;
  runId: string;
  toolUseId: string;
  /**
   * The run's `dependencies` (Agno's "pass dependencies to agent tools"): a
   * JSON object given with the run, passed to tools, never shown to the model.
   */
  dependencies: Record<string, unknown>;
}

/**
 * A tool that runs inside agentd (HTTP, MCP, code). The engine validates the
 * arguments against `parameters` before calling `execute`; whatever
 * `execute` returns is the result the model sees (strings as they are,
 * anything else as JSON). A throw is a tool error the model sees; the run
 * goes on.
 */
export interface ServerTool {
  readonly name: string;
  readonly description: string;
  readonly parameters: ToolParameters;
  execute(args: Record<string, unknown>, context: ToolContext): Promise<unknown>;
}

/**
 * Raised by a tool for a failure whose message is meant for the model (and
 * the run's events): "HTTP 404 from api.example.com", "MCP server 'files'
 * is not running". Other errors are reported with their message too, but
 * this one says the tool itself chose the words.
 */
export class ToolError extends Error {
  override name = "ToolError";
}

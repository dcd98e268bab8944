import type { RunEventOf } from "@agentd/protocol";
import type { LocalTool } from "../tools.js";
import type { ToolResultBody } from "../types.js";

type LocalToolCall = RunEventOf<"local_tool_call">;

/**
 * Runs one `local_tool_call` and says what to POST back. Every failure
 * becomes an `error` naming the tool, so the model can see what went wrong
 * and the run never waits for an answer that will not come.
 */
export async function executeToolCall(tool: LocalTool | undefined, call: LocalToolCall, signal: AbortSignal, runId: string): Promise<ToolResultBody> {
  const { toolUseId, name } = call;
  if (!tool) return { toolUseId, error: `no handler for local tool "${name}" in this client (pass it in tools via defineTool)` };
  // The seed document spells the arguments `input`; agentd sends `args`.
  let args: unknown = call.args ?? (call as { input?: unknown }).input ?? {};
  if (tool.schema) {
    const parsed = tool.schema.safeParse(args);
    if (!parsed.success) return { toolUseId, error: `invalid arguments for tool "${name}": ${describeIssues(parsed.error)}` };
    args = parsed.data;
  }
  try {
    const output = await tool.execute(args as Record<string, unknown>, { signal, runId, toolUseId });
    return { toolUseId, result: typeof output === "string" ? output : (JSON.stringify(output) ?? "") };
  } catch (error) {
    return { toolUseId, error: `tool "${name}" failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function describeIssues(error: unknown): string {
  const issues = (error as { issues?: Array<{ path?: PropertyKey[]; message?: string }> } | undefined)?.issues;
  if (Array.isArray(issues) && issues.length > 0) {
    return issues.map((issue) => (issue.path?.length ? `${issue.path.map(String).join(".")}: ${issue.message}` : String(issue.message))).join("; ");
  }
  return error instanceof Error ? error.message : String(error);
}

import type { RunEvent, RunEventOf } from "@agentd/protocol";
import { APIUserAbortError, ConflictError, NotFoundError, RunCancelledError, RunFailedError } from "../errors.js";
import type { LocalTool } from "../tools.js";
import type { DriveOptions, RunResult } from "../types.js";
import { executeToolCall } from "./dispatch.js";
import { streamRunEvents } from "./event-stream.js";
import type { Transport } from "./request.js";
import { operations } from "./routes.js";
import { linkedController } from "./signals.js";

/** How long a best-effort cancel may take after the caller aborted, in milliseconds. */
const CANCEL_TIMEOUT_MS = 5_000;

/**
 * Follows a run to its terminal event, answering its local tool calls.
 * Calls of one turn execute concurrently. Aborting `signal` cancels the run
 * on the server; a tool result that cannot be delivered (other than to a run
 * that has moved on) ends the drive with that error rather than leaving the
 * run waiting unseen.
 */
export async function* driveRun(
  transport: Transport,
  runId: string,
  tools: Map<string, LocalTool>,
  options: DriveOptions = {},
): AsyncGenerator<RunEvent> {
  const { controller, release } = linkedController(options.signal);
  // An object, not a `let`: it is written from the tool callbacks.
  const state: { failure?: { error: unknown } } = {};
  const answer = async (event: RunEventOf<"local_tool_call">): Promise<void> => {
    const body = await executeToolCall(tools.get(event.name), event, controller.signal, runId);
    if (controller.signal.aborted) return;
    try {
      await transport.json({ ...operations.submitToolResult(runId), body, signal: controller.signal });
    } catch (error) {
      // 404 unknown_tool_use / 409 run_terminal: the run ended or timed the call out; its terminal event says how.
      if (NotFoundError.isInstance(error) || ConflictError.isInstance(error) || controller.signal.aborted) return;
      state.failure ??= { error };
      controller.abort();
    }
  };
  const decide = async (event: RunEventOf<"approval_required">): Promise<void> => {
    try {
      const answer = await options.onApproval!({ runId, toolUseId: event.toolUseId, name: event.name, args: event.args });
      const decision = typeof answer === "boolean" ? { approved: answer } : answer;
      if (controller.signal.aborted) return;
      await transport.json({
        ...operations.continueRun(runId),
        body: { approvals: [{ toolUseId: event.toolUseId, ...decision }] },
        signal: controller.signal,
      });
    } catch (error) {
      if (NotFoundError.isInstance(error) || ConflictError.isInstance(error) || controller.signal.aborted) return;
      state.failure ??= { error };
      controller.abort();
    }
  };
  try {
    for await (const event of streamRunEvents(transport, runId, { signal: controller.signal })) {
      if (event.type === "assistant_delta") options.onDelta?.(event.text);
      if (event.type === "local_tool_call") void answer(event);
      if (event.type === "approval_required" && options.onApproval) void decide(event);
      yield event;
    }
  } catch (error) {
    const { failure } = state;
    if (failure || options.signal?.aborted)
      await cancelQuietly(transport, runId, failure ? "a local tool result could not be delivered" : "aborted by the client");
    if (failure) throw failure.error;
    if (APIUserAbortError.isInstance(error))
      throw new APIUserAbortError(`run ${runId} was aborted by the caller`, { cause: options.signal?.reason });
    throw error;
  } finally {
    // The run is over or abandoned: stop tool executions still in flight.
    controller.abort();
    release();
  }
}

async function cancelQuietly(transport: Transport, runId: string, reason: string): Promise<void> {
  await transport
    .json({ ...operations.cancelRun(runId), body: { reason }, maxRetries: 0, timeoutMs: CANCEL_TIMEOUT_MS })
    .catch(() => undefined);
}

/** Reads events to the terminal one: the RunResult, or RunFailedError / RunCancelledError. */
export async function collectResult(runId: string, events: AsyncIterable<RunEvent>): Promise<RunResult> {
  const seen: RunEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    if (event.type === "cancelled") throw new RunCancelledError(runId, event.reason);
    if (event.type !== "result") continue;
    if (event.subtype !== "success") throw new RunFailedError(runId, event.subtype, event.error, event.text);
    return { runId, text: event.text ?? "", status: "completed", subtype: event.subtype, usage: event.usage, events: seen };
  }
  // streamRunEvents only ends at a terminal event; this guards a future change.
  throw new RunFailedError(runId, "error_interrupted", "the event stream ended without a terminal event");
}

import type { RunEvent } from "@agentd/protocol";
import { collectResult, driveRun } from "../internal/drive.js";
import type { Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";
import { toolHandlers, toWireTools } from "../tools.js";
import type { RunParams, RunResult } from "../types.js";
import type { CreateRunResponse } from "@agentd/protocol";

/** Run an agent (named by `agentId`, or defined inline) and answer its local tool calls. */
export class Agents {
  constructor(private readonly transport: Transport) {}

  /** Resolves with the final answer; rejects with RunFailedError / RunCancelledError when the run does not succeed. */
  async run(params: RunParams): Promise<RunResult> {
    const { runId } = await this.start(params);
    return collectResult(runId, driveRun(this.transport, runId, toolHandlers(params.tools), params));
  }

  /**
   * Every event of the run, the terminal one included; a failed run is a
   * `result` event here, not an exception. `break` stops listening and
   * answering tool calls; the run itself goes on until cancelled.
   */
  async *stream(params: RunParams): AsyncGenerator<RunEvent> {
    const { runId } = await this.start(params);
    yield* driveRun(this.transport, runId, toolHandlers(params.tools), params);
  }

  private start(params: RunParams): Promise<CreateRunResponse> {
    const { signal, onDelta: _onDelta, onApproval: _onApproval, tools, ...request } = params;
    return this.transport.json({ ...operations.createRun(), body: { ...request, tools: toWireTools(tools) }, signal });
  }
}

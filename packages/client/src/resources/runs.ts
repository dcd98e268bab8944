import type { CancelRunRequest, CreateRunResponse, OkResponse, RunEvent, RunSnapshot } from "@agentd/protocol";
import { collectResult } from "../internal/drive.js";
import { streamRunEvents } from "../internal/event-stream.js";
import type { RequestOptions, Transport } from "../internal/request.js";
import { paths } from "../internal/routes.js";
import { toWireTools } from "../tools.js";
import type { RunResult, StartRunParams, StreamOptions, ToolResultBody } from "../types.js";

/** Low-level run calls. `agents.run` / `agents.stream` drive a run end to end. */
export class Runs {
  constructor(private readonly transport: Transport) {}

  /** Creates a run (202) without following it. Local handlers in `tools` are not run: use `agents.run` for that. */
  start(params: StartRunParams, options?: RequestOptions): Promise<CreateRunResponse> {
    return this.transport.json({ method: "POST", path: paths.runs(), body: { ...params, tools: toWireTools(params.tools) }, ...options });
  }

  get(runId: string, options?: RequestOptions): Promise<RunSnapshot> {
    return this.transport.json({ method: "GET", path: paths.run(runId), ...options });
  }

  /** Idempotent; the run ends with a `cancelled` event. */
  cancel(runId: string, body: CancelRunRequest = {}, options?: RequestOptions): Promise<OkResponse> {
    return this.transport.json({ method: "POST", path: paths.runCancel(runId), body, ...options });
  }

  /** Answers a `local_tool_call` by hand (`agents.run` does this for `defineTool` handlers). */
  submitToolResult(runId: string, body: ToolResultBody, options?: RequestOptions): Promise<OkResponse> {
    return this.transport.json({ method: "POST", path: paths.runToolResults(runId), body, ...options });
  }

  /**
   * The run's events, resumed transparently after dropped connections, until
   * its terminal event. `break` closes the connection; the run goes on.
   */
  stream(runId: string, options?: StreamOptions): AsyncGenerator<RunEvent> {
    return streamRunEvents(this.transport, runId, options);
  }

  /** Waits for the run to end without acting on it (a paused run waits for someone else's tool result). */
  wait(runId: string, options: { signal?: AbortSignal } = {}): Promise<RunResult> {
    return collectResult(runId, streamRunEvents(this.transport, runId, options));
  }
}

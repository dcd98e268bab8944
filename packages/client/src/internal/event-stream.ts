import type { RunEvent, StreamErrorFrame } from "@agentd/protocol";
import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError, AgentdError } from "../errors.js";
import type { StreamOptions } from "../types.js";
import type { Transport } from "./request.js";
import { isRetryableError, retryDelayMs, sleep } from "./retry.js";
import { headers, LAST_SEQ_QUERY, paths } from "./routes.js";
import { linkedController } from "./signals.js";
import { readSse, type SseMessage } from "./sse.js";

export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
export const DEFAULT_MAX_RECONNECTS = 10;

/** The `event:` of the frame that ends a stream the server could not go on serving (protocol's StreamErrorFrame). */
const STREAM_ERROR_EVENT = "error";

export function isTerminal(event: RunEvent): boolean {
  return event.type === "result" || event.type === "cancelled";
}

/**
 * A run's events from `lastSeq` on, each exactly once and in order, until the
 * terminal event. A dropped connection, a stream that ends early or one that
 * goes silent for `idleTimeoutMs` is resumed with both `?lastSeq=` and
 * `Last-Event-ID` (seed 004 §7). Ending the iteration aborts the request.
 * An `error` frame ends it with that error, thrown (streamError).
 */
export async function* streamRunEvents(transport: Transport, runId: string, options: StreamOptions = {}): AsyncGenerator<RunEvent> {
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const maxReconnects = options.maxReconnects ?? DEFAULT_MAX_RECONNECTS;
  let lastSeq = options.lastSeq ?? 0;
  let failures = 0;
  while (true) {
    const { controller, release } = linkedController(options.signal);
    let idle = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const disarm = (): void => clearTimeout(timer);
    const arm = (): void => {
      disarm();
      timer = setTimeout(() => {
        idle = true;
        controller.abort();
      }, idleTimeoutMs);
    };
    let failure: unknown;
    try {
      const resume = lastSeq > 0;
      const response = await transport.open({
        method: "GET",
        path: paths.runStream(runId),
        query: resume ? { [LAST_SEQ_QUERY]: lastSeq } : undefined,
        headers: resume ? { [headers.lastEventId]: String(lastSeq) } : undefined,
        signal: controller.signal,
        // This loop owns reconnection, with its own budget.
        maxRetries: 0,
      });
      if (!response.body) throw new APIConnectionError(`the stream of run ${runId} has no body`);
      arm();
      for await (const message of readSse(response.body, { onBytes: arm, signal: controller.signal })) {
        const event = toRunEvent(message);
        if (event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        failures = 0;
        // A slow consumer is not a silent server.
        disarm();
        yield event;
        if (isTerminal(event)) return;
        arm();
      }
      failure = new APIConnectionError(`the stream of run ${runId} closed before the run ended`);
    } catch (error) {
      if (options.signal?.aborted) throw new APIUserAbortError(undefined, { cause: options.signal.reason });
      if (idle) failure = new APIConnectionTimeoutError(`no data on the stream of run ${runId} for ${idleTimeoutMs} ms`, { cause: error });
      else if (isRetryableError(error) || !AgentdError.isInstance(error)) failure = error;
      else throw error;
    } finally {
      disarm();
      controller.abort();
      release();
    }
    if (failures >= maxReconnects) throw failure;
    await sleep(retryDelayMs(failures++, failure), options.signal);
  }
}

function toRunEvent(message: SseMessage): RunEvent {
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch (cause) {
    throw new AgentdError(`malformed event data on the run stream: ${message.data.slice(0, 200)}`, { cause });
  }
  const fields = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {};
  // `data.type` wins over `event:`: proxies may strip the event line (seed 004 §7).
  const type = typeof fields.type === "string" ? fields.type : message.event;
  if (type === STREAM_ERROR_EVENT) throw streamError(fields as Partial<StreamErrorFrame>);
  const seq = typeof fields.seq === "number" ? fields.seq : Number(message.id);
  if (!Number.isInteger(seq) || seq < 1) throw new AgentdError(`event without a seq on the run stream: ${message.data.slice(0, 200)}`);
  return { ...fields, seq, type } as RunEvent;
}

/**
 * The server ended the stream with an `error` frame (a failure after the
 * stream's headers were sent): thrown as the error the HTTP reply would have
 * been, with its code, message and request id. Not retried by the reconnect
 * loop: the frame is the server's answer, not a lost connection.
 */
function streamError(frame: Partial<StreamErrorFrame>): AgentdError {
  const message = frame.message ?? frame.error ?? "the server ended the run stream with an error";
  return new AgentdError(message, { code: frame.code, requestId: frame.requestId, body: frame });
}

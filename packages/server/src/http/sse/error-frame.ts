import type { ServerResponse } from "node:http";
import { STREAM_ERROR_EVENT, type ErrorBody, type StreamErrorFrame } from "@agentd/protocol";

/**
 * The end of an event stream that failed after its headers were sent, when
 * a JSON error reply is no longer possible: a terminal `error` frame with
 * the body that reply would have had (protocol's StreamErrorFrame), then the
 * end of the response, in one write. No `id:` line: the frame is not part
 * of the run's log, and a client's cursor stays at the last event it got.
 */
export function endWithErrorFrame(res: ServerResponse, body: ErrorBody): void {
  if (res.writableEnded || res.destroyed) return;
  res.end(errorFrame(body));
}

export function errorFrame(body: ErrorBody): string {
  const frame: StreamErrorFrame = { type: STREAM_ERROR_EVENT, ...body };
  return `event: ${STREAM_ERROR_EVENT}\ndata: ${JSON.stringify(frame)}\n\n`;
}

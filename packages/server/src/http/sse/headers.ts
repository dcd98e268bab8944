import type { ServerResponse } from "node:http";

/**
 * The responses that are event streams, for the edge's error handler (an
 * error after their headers ends them with an `error` frame, error-frame.ts).
 * getHeader() cannot tell: headers given to writeHead() are not kept as
 * header fields.
 */
const eventStreams = new WeakSet<object>();

export function isEventStream(res: ServerResponse): boolean {
  return eventStreams.has(res);
}

/** How long a stream with nothing to send yet holds its headers back, hoping to send them with the first event. */
export const HEADERS_ALONE_AFTER_MS = 20;

/**
 * An event stream's response head. It is only queued: the headers go out
 * with the first frame (one write, not two); a stream with nothing to
 * replay sends them alone only if no event comes within
 * HEADERS_ALONE_AFTER_MS (a run that just started usually has one by then).
 */
export class DeferredHeaders {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    requestId: string,
  ) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-request-id": requestId,
    });
    eventStreams.add(res);
  }

  /** Nothing to send for now: the headers go alone unless a frame (or the end) comes first. Armed once per stream. */
  sendSoon(stream: { readonly started: boolean; readonly closed: boolean }): void {
    if (this.timer || stream.started || stream.closed) return;
    this.timer = setTimeout(() => {
      if (stream.started || stream.closed) return;
      this.res.flushHeaders();
    }, HEADERS_ALONE_AFTER_MS);
  }

  cancel(): void {
    clearTimeout(this.timer);
  }
}

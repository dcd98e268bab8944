import type { ServerResponse } from "node:http";
import { isTerminalEventType } from "@agentd/protocol";
import type { StoredEvent } from "../../store/types.js";

/**
 * Writes a run's events as SSE frames, each seq once and in order from the
 * stream's cursor (`lastSent`): a batch is one socket write, a batch of
 * deltas one syscall rather than one per frame; the terminal frame and the
 * end of the response are one write too. A reader that falls more than
 * `maxBufferedBytes` behind is cut off rather than buffered without bound:
 * it reconnects with its last seq and loses nothing.
 */
export class FrameWriter {
  /** The seq of the last event written. */
  lastSent: number;
  /** True once a frame went out (with the headers). */
  started = false;
  /** True once the stream ended, whichever way: nothing more is written. */
  closed = false;
  private lastWrite = Date.now();

  constructor(
    private readonly res: ServerResponse,
    cursor: number,
    private readonly maxBufferedBytes: number,
    /** The response was ended (terminal frame) or cut (slow reader): the stream is over. */
    private readonly ended: () => void,
  ) {
    this.lastSent = cursor;
  }

  /**
   * Writes the events after the cursor, in order, as one socket write.
   * Returns true if an event was ahead of a gap (the store has more to give).
   */
  write(events: readonly StoredEvent[]): boolean {
    if (this.closed) return false;
    let out = "";
    let terminal = false;
    let gap = false;
    for (const event of events) {
      if (event.seq <= this.lastSent) continue;
      if (event.seq !== this.lastSent + 1) {
        gap = true;
        break;
      }
      this.lastSent = event.seq;
      out += `id: ${event.seq}\nevent: ${event.type}\ndata: ${event.data}\n\n`;
      if (isTerminalEventType(event.type)) {
        terminal = true;
        break;
      }
    }
    if (out.length === 0) return gap;
    this.lastWrite = Date.now();
    this.started = true;
    const res = this.res;
    if (terminal) {
      res.end(out);
      this.ended();
      return gap;
    }
    res.write(out);
    if (res.writableLength > this.maxBufferedBytes) {
      res.destroy();
      this.ended();
    }
    return gap;
  }

  /** A heartbeat comment, if nothing was written for `heartbeatMs`: proxies and the client's idle watchdog see the stream alive. Whether it wrote one. */
  ping(heartbeatMs: number): boolean {
    if (Date.now() - this.lastWrite < heartbeatMs) return false;
    this.lastWrite = Date.now();
    this.res.write(": ping\n\n");
    return true;
  }
}

/**
 * Pings the stream while it is idle, and then calls `idle`; stop with
 * clearInterval. The stream uses it to re-read the store: a publication is
 * lost without any reconnect when its publisher dies between its commit and
 * its publish (kill -9), and no one publishes a paused run's events again.
 */
export function startHeartbeat(writer: FrameWriter, heartbeatMs: number, idle: () => void = () => undefined): NodeJS.Timeout {
  const heartbeat = setInterval(
    () => {
      if (writer.ping(heartbeatMs)) idle();
    },
    Math.max(10, Math.floor(heartbeatMs / 2)),
  );
  heartbeat.unref();
  return heartbeat;
}

import type { EventBus } from "../../bus/types.js";
import type { Context } from "../context.js";
import { CatchUp, type EventReader } from "./catch-up.js";
import { FrameWriter, startHeartbeat } from "./frame-writer.js";
import { DeferredHeaders } from "./headers.js";
import type { OpenStream } from "./open-streams.js";

export interface StreamOptions {
  reader: EventReader;
  bus: EventBus;
  /** Idle time before a heartbeat comment, in milliseconds. */
  heartbeatMs: number;
  /** Unsent bytes a slow reader may pile up before it is cut off (it resumes from its cursor). */
  maxBufferedBytes: number;
  /** Events read from the store per query while catching up. */
  pageSize: number;
  /** The streams open now, for endStreams() at shutdown. */
  open?: Set<OpenStream>;
}

/**
 * Serves one run's events as SSE from `cursor` on, from four pieces: the
 * deferred headers (headers.ts), the frame writer that owns the cursor and
 * the one write per batch (frame-writer.ts), the catch-up that replays from
 * the store and holds the bus's events meanwhile (catch-up.ts), and the
 * heartbeat. This function ties them to the response's life: it resolves
 * once the stream is over (terminal event, client gone, slow reader cut
 * off, store outage, shutdown) and rejects with an unexpected read error,
 * which the HTTP edge turns into a terminal `error` frame (error-frame.ts).
 */
export function streamRun(ctx: Context, options: StreamOptions, run: { id: string; ended: boolean }, cursor: number): Promise<void> {
  const { req, res } = ctx;
  const headers = new DeferredHeaders(res, ctx.requestId);
  // HEAD: the head of an event stream and nothing else. Node drops a HEAD
  // response's writes, and with them the head that would have gone with
  // the first frame, so a live run's HEAD would wait forever (fuzz seed 995285).
  if (req.method === "HEAD") {
    headers.cancel();
    res.end();
    return Promise.resolve();
  }

  return new Promise<void>((resolve, reject) => {
    /** Releases what the stream holds; false if it was over already. */
    const stop = (): boolean => {
      if (writer.closed) return false;
      writer.closed = true;
      options.open?.delete(entry);
      unsubscribe();
      offReconnect();
      clearInterval(heartbeat);
      headers.cancel();
      return true;
    };
    const finish = (): void => {
      if (!stop()) return;
      if (!res.writableEnded) res.end();
      resolve();
    };

    const writer = new FrameWriter(res, cursor, options.maxBufferedBytes, finish);
    const catchUp = new CatchUp(options.reader, run, options.pageSize, writer, {
      complete: finish,
      idle: () => headers.sendSoon(writer),
      // A clean end, not a cut: the seed SDK reconnects on a stream that closes
      // without a terminal event, but throws (no retry) when the request itself
      // fails, which is what a destroyed socket whose headers had not gone out yet
      // looks like. A clean end also delivers the frames already written.
      outage: finish,
      failed: (error) => {
        if (stop()) reject(error);
      },
    });
    const unsubscribe = options.bus.subscribe(run.id, (events) => catchUp.live(events));
    const offReconnect = options.bus.onReconnect(() => catchUp.missed());
    // On a lossy bus, idle for a heartbeat: whatever a lost publication held is in the store (one read per idle stream per heartbeat).
    const heartbeat = startHeartbeat(writer, options.heartbeatMs, options.bus.lossy ? () => catchUp.missed() : undefined);

    const entry: OpenStream = { end: finish, res };
    options.open?.add(entry);
    req.on("close", finish);
    res.on("close", finish);
    res.on("error", finish);
    void catchUp.start();
  });
}

import { isTerminalEventType } from "@agentd/protocol";
import type { EventBus } from "../bus/types.js";
import type { Context } from "../http/context.js";
import type { StoredEvent } from "../store/types.js";

/** Where replayed events come from: the event log (its tail cache, then the store). */
export interface EventReader {
  readEvents(runId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
}

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

/** A stream being served: how to end it, and its response (to know when what it wrote is out). */
export interface OpenStream {
  end(): void;
  res: Context["res"];
}

/**
 * Ends every open stream (without a terminal event: their clients resume from
 * their cursor elsewhere) and waits, at most `waitMs`, until each response's
 * bytes are handed to the kernel. Destroying the connections at once could
 * drop frames still queued in the process: under load a shutdown test saw
 * a stream lose the run's last event that way.
 */
export async function endStreams(open: Set<OpenStream>, waitMs: number): Promise<void> {
  const flushed = [...open].map(
    ({ end, res }) =>
      new Promise<void>((resolve) => {
        if (res.writableFinished || res.destroyed) return resolve();
        res.once("finish", resolve);
        res.once("close", resolve);
        end();
      }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(flushed), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}

/**
 * Serves one run's events as SSE from `cursor` on: replay from the store,
 * then the live tail from the bus, with no gap and no duplicate. The bus is
 * subscribed before the replay starts and its events are held until the
 * replay ends; any seq the bus skipped is read back from the store. The
 * response ends right after the terminal event.
 */
export function streamRun(ctx: Context, options: StreamOptions, run: { id: string; ended: boolean }, cursor: number): Promise<void> {
  const runId = run.id;
  const { req, res } = ctx;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "x-request-id": ctx.requestId,
  });
  // Headers go out with the first frames; a stream with nothing to replay
  // sends them alone only if no event comes within HEADERS_ALONE_AFTER_MS
  // (a run that just started usually has one by then): a write saved.
  let headersSent = false;
  let headersTimer: NodeJS.Timeout | undefined;

  let lastSent = cursor;
  let closed = false;
  let catchingUp = false;
  let held: StoredEvent[] = [];
  let lastWrite = Date.now();

  return new Promise<void>((resolve) => {
    const finish = () => {
      if (closed) return;
      closed = true;
      options.open?.delete(entry);
      unsubscribe();
      offReconnect();
      clearInterval(heartbeat);
      clearTimeout(headersTimer);
      if (!res.writableEnded) res.end();
      resolve();
    };

    /**
     * Writes the events after the cursor, in order, as one socket write: a
     * batch of deltas costs one syscall, not one per frame. Returns true if
     * an event was ahead of a gap (the store has more to give).
     */
    const writeBatch = (events: readonly StoredEvent[]): boolean => {
      if (closed) return false;
      let out = "";
      let terminal = false;
      let gap = false;
      for (const event of events) {
        if (event.seq <= lastSent) continue;
        if (event.seq !== lastSent + 1) {
          gap = true;
          break;
        }
        lastSent = event.seq;
        out += `id: ${event.seq}\nevent: ${event.type}\ndata: ${event.data}\n\n`;
        if (isTerminalEventType(event.type)) {
          terminal = true;
          break;
        }
      }
      if (out.length === 0) return gap;
      lastWrite = Date.now();
      headersSent = true;
      if (terminal) {
        // Frame and end of stream in one write.
        res.end(out);
        finish();
        return gap;
      }
      res.write(out);
      if (res.writableLength > options.maxBufferedBytes) {
        // A reader this far behind is cut off rather than buffered without
        // bound; it reconnects with its last seq and loses nothing.
        res.destroy();
        finish();
      }
      return gap;
    };

    const catchUp = async (): Promise<void> => {
      catchingUp = true;
      try {
        for (;;) {
          const page = await options.reader.readEvents(runId, lastSent, options.pageSize);
          writeBatch(page);
          if (closed || page.length < options.pageSize) break;
        }
        // The run had ended before this request and the reader is already
        // past its terminal event: nothing will follow.
        if (run.ended && !closed && held.length === 0) return finish();
        if (!headersSent && !closed && !headersTimer) {
          headersTimer = setTimeout(() => {
            if (headersSent || closed) return;
            headersSent = true;
            res.flushHeaders();
          }, HEADERS_ALONE_AFTER_MS);
        }
        // Held bus events may now be contiguous; anything still ahead of a
        // gap means the store has more to give: read again.
        while (!closed && held.length > 0) {
          const pending = held;
          held = [];
          if (writeBatch(pending)) writeBatch(await options.reader.readEvents(runId, lastSent, options.pageSize));
        }
      } catch {
        // Store unavailable: end the stream without a terminal event; the
        // client reconnects with its cursor.
        res.destroy();
        finish();
      } finally {
        catchingUp = false;
      }
    };

    const unsubscribe = options.bus.subscribe(runId, (events) => {
      if (closed) return;
      if (catchingUp) {
        held.push(...events);
        return;
      }
      if (writeBatch(events)) {
        held.push(...events);
        void catchUp();
      }
    });

    // Pub/sub loses what is published while a connection is down: after a
    // reconnect, the store says what was missed.
    const offReconnect = options.bus.onReconnect(() => {
      if (!closed && !catchingUp) void catchUp();
    });

    const heartbeat = setInterval(
      () => {
        if (Date.now() - lastWrite < options.heartbeatMs) return;
        lastWrite = Date.now();
        res.write(": ping\n\n");
      },
      Math.max(10, Math.floor(options.heartbeatMs / 2)),
    );
    heartbeat.unref();

    const entry: OpenStream = { end: finish, res };
    options.open?.add(entry);
    req.on("close", finish);
    res.on("close", finish);
    res.on("error", finish);
    void catchUp();
  });
}

/** How long a stream with nothing to send yet holds its headers back, hoping to send them with the first event. */
const HEADERS_ALONE_AFTER_MS = 20;

/** The replay cursor: `?lastSeq=` or `Last-Event-ID`, whichever is later. */
export function parseCursor(
  lastSeqQuery: string | null,
  lastEventId: string | undefined,
): { cursor: number } | { error: { path: string; message: string } } {
  let cursor = 0;
  for (const [path, raw] of [
    ["lastSeq", lastSeqQuery],
    ["Last-Event-ID", lastEventId],
  ] as const) {
    if (raw === null || raw === undefined || raw === "") continue;
    if (!/^\d{1,15}$/.test(raw.trim()))
      return { error: { path, message: `${path} must be a non-negative integer (got '${raw.slice(0, 40)}')` } };
    cursor = Math.max(cursor, Number(raw.trim()));
  }
  return { cursor };
}

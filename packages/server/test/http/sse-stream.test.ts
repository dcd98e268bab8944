import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { MemoryEventBus } from "../../src/bus/memory.js";
import { AgentdError } from "../../src/errors.js";
import { errorFrame } from "../../src/http/sse/error-frame.js";
import { streamRun } from "../../src/http/sse/index.js";
import type { StoredEvent } from "../../src/store/types.js";

/** A response that records what is written to it. */
function recordingResponse() {
  const res = Object.assign(new EventEmitter(), {
    written: "",
    writableLength: 0,
    writableEnded: false,
    destroyed: false,
    writeHead: () => undefined,
    flushHeaders: () => undefined,
    write(chunk: string) {
      this.written += chunk;
      return true;
    },
    end(chunk?: string) {
      if (chunk) this.written += chunk;
      this.writableEnded = true;
    },
    destroy() {
      this.destroyed = true;
    },
  });
  return res;
}

const event = (seq: number, type = "assistant_delta"): StoredEvent => ({ runId: "run_1", seq, type, data: JSON.stringify({ seq, type }) });
const wire = (events: StoredEvent[]) => events.map((e) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${e.data}\n\n`).join("");

/** A stream of run_1 from seq 0 whose store answers the first read with `first`, then fails with `failure`. */
function streamOver(first: StoredEvent[], failure: Error) {
  const res = recordingResponse();
  const bus = new MemoryEventBus();
  let reads = 0;
  const reader = {
    readEvents: async () => {
      if (++reads === 1) return first;
      throw failure;
    },
  };
  const ctx = { req: new EventEmitter(), res, url: new URL("http://x/"), params: {}, requestId: "req_1" } as never;
  const options = { reader, bus, heartbeatMs: 60_000, maxBufferedBytes: 1 << 20, pageSize: 100 };
  return { res, bus, done: streamRun(ctx, options, { id: "run_1", ended: false }, 0) };
}

describe("streamRun's catch-up", () => {
  it("an event committed but never published (its publisher died in between) reaches an idle stream within a heartbeat", async () => {
    const stored: StoredEvent[] = [event(1)];
    const res = recordingResponse();
    // A bus that can lose a publication silently, as Redis's does (bus/types.ts `lossy`).
    const bus = Object.defineProperty(new MemoryEventBus(), "lossy", { value: true });
    const reader = { readEvents: async (_runId: string, after: number) => stored.filter((e) => e.seq > after) };
    const ctx = { req: new EventEmitter(), res, url: new URL("http://x/"), params: {}, requestId: "req_1" } as never;
    const done = streamRun(
      ctx,
      { reader, bus, heartbeatMs: 30, maxBufferedBytes: 1 << 20, pageSize: 100 },
      { id: "run_1", ended: false },
      0,
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    stored.push(event(2), event(3, "result")); // in the store; the bus never hears of them
    const deadline = Date.now() + 2_000;
    while (!res.writableEnded && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await done;
    expect(res.written.replaceAll(": ping\n\n", "")).toBe(wire([event(1), event(2), event(3, "result")]));
  });
});

describe("streamRun's endings", () => {
  it("a read failing mid-stream (a gap's catch-up) rejects, leaving the response open for the edge's `error` frame", async () => {
    const { res, bus, done } = streamOver([event(1), event(2)], new TypeError("a bug while reading events"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(res.written).toBe(wire([event(1), event(2)]));
    bus.publish("run_1", [event(4)]); // seq 3 missed: read back from the store, which fails
    await expect(done).rejects.toThrow("a bug while reading events");
    expect(res.writableEnded).toBe(false);
    expect(res.destroyed).toBe(false);
    // Nothing more once it is over: the bus is unsubscribed.
    bus.publish("run_1", [event(3), event(4)]);
    expect(res.written).toBe(wire([event(1), event(2)]));
  });

  it("a store outage mid-stream ends the response cleanly, without a terminal event", async () => {
    const { res, bus, done } = streamOver([event(1)], new AgentdError("unavailable", "the database is unavailable: ECONNREFUSED"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    bus.publish("run_1", [event(3)]);
    await done;
    expect(res.written).toBe(wire([event(1)]));
    expect(res.writableEnded).toBe(true);
    expect(res.destroyed).toBe(false);
  });

  it("the error frame has no id: line, and the HTTP error body with its type in data", () => {
    const body = { error: "boom", code: "internal", message: "boom", requestId: "req_1" };
    expect(errorFrame(body)).toBe(
      `event: error\ndata: {"type":"error","error":"boom","code":"internal","message":"boom","requestId":"req_1"}\n\n`,
    );
  });
});

import type { RunEvent } from "@agentd/protocol";
import { describe, expect, it } from "vitest";
import { Agentd, APIUserAbortError, NotFoundError } from "../src/index.js";
import { at, errorBody, fakeFetch, frame, sseResponse, sseStream, tick, usage } from "./helpers/fake-server.js";

const events = [
  { seq: 1, at, type: "started", runId: "run_1", modelId: "mock" },
  { seq: 2, at, type: "assistant_delta", text: "Hel" },
  { seq: 3, at, type: "assistant_delta", text: "lo" },
  { seq: 4, at, type: "assistant_message", text: "Hello", toolCalls: [] },
  { seq: 5, at, type: "result", subtype: "success", text: "Hello", usage, durationMs: 1 },
];
const framesAfter = (seq: number): string => events.filter((e) => e.seq > seq).map(frame).join("");

async function collect(iterable: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const event of iterable) out.push(event);
  return out;
}

describe("runs.stream", () => {
  it("resumes a cut connection with ?lastSeq and Last-Event-ID, yielding each seq once", async () => {
    let connection = 0;
    const fetch = fakeFetch((request) => {
      connection++;
      if (connection === 1) {
        const stream = sseStream(request.signal);
        stream.write(framesAfter(0).slice(0, framesAfter(0).indexOf("id: 3")) + "id: 3\nevent: assist");
        setTimeout(() => stream.cut(), 5);
        return stream.response;
      }
      // The server replays from an older cursor than asked: the client must drop the overlap.
      return sseResponse(framesAfter(1));
    });
    const client = new Agentd({ apiKey: "k", fetch });
    const seen = await collect(client.runs.stream("run_1"));
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(seen[1]).toEqual(events[1]);
    const reconnect = fetch.requests[1];
    expect(reconnect?.path).toBe("/agent-runs/run_1/stream");
    expect(reconnect?.query.get("lastSeq")).toBe("2");
    expect(reconnect?.headers.get("last-event-id")).toBe("2");
    expect(reconnect?.headers.get("accept")).toBe("text/event-stream");
    expect(fetch.requests[0]?.query.has("lastSeq")).toBe(false);
  });

  it("reconnects when the stream ends without a terminal event, and starts after lastSeq", async () => {
    const fetch = fakeFetch((request) => sseResponse(request.query.get("lastSeq") === "3" ? framesAfter(3) : framesAfter(2).split("id: 4")[0] ?? ""));
    const seen = await collect(new Agentd({ apiKey: "k", fetch }).runs.stream("run_1", { lastSeq: 2 }));
    expect(seen.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(fetch.requests.map((r) => r.query.get("lastSeq"))).toEqual(["2", "3"]);
  });

  it("reconnects when the server goes silent past idleTimeoutMs, heartbeats keeping it alive", async () => {
    let connection = 0;
    const fetch = fakeFetch((request) => {
      const stream = sseStream(request.signal);
      if (++connection === 1) {
        stream.write(frame(events[0]!));
        // Heartbeats for longer than the idle timeout: no reconnect yet.
        const beat = setInterval(() => stream.write(": hb\n\n"), 10);
        setTimeout(() => clearInterval(beat), 120);
      } else {
        stream.write(framesAfter(1));
      }
      return stream.response;
    });
    const started = Date.now();
    const seen = await collect(new Agentd({ apiKey: "k", fetch }).runs.stream("run_1", { idleTimeoutMs: 50 }));
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(fetch.requests).toHaveLength(2);
    expect(fetch.requests[0]?.signal?.aborted).toBe(true);
  });

  it("aborts the request when the consumer breaks out of the loop", async () => {
    let stream: ReturnType<typeof sseStream> | undefined;
    const fetch = fakeFetch((request) => {
      stream = sseStream(request.signal);
      stream.write(frame(events[0]!) + frame(events[1]!));
      return stream.response;
    });
    for await (const event of new Agentd({ apiKey: "k", fetch }).runs.stream("run_1")) {
      expect(event.seq).toBe(1);
      break;
    }
    await stream?.cancelled;
    expect(fetch.requests[0]?.signal?.aborted).toBe(true);
    expect(fetch.requests).toHaveLength(1);
  });

  it("rejects with APIUserAbortError when the signal fires mid-stream", async () => {
    const controller = new AbortController();
    const fetch = fakeFetch((request) => {
      const stream = sseStream(request.signal);
      stream.write(frame(events[0]!));
      return stream.response;
    });
    const seen: number[] = [];
    const done = (async () => {
      for await (const event of new Agentd({ apiKey: "k", fetch }).runs.stream("run_1", { signal: controller.signal })) seen.push(event.seq);
    })();
    await tick(20);
    controller.abort();
    await expect(done).rejects.toSatisfy(APIUserAbortError.isInstance);
    expect(seen).toEqual([1]);
  });

  it("does not retry a run that does not exist", async () => {
    const fetch = fakeFetch(() => errorBody("not_found", "run not found", 404));
    await expect(collect(new Agentd({ apiKey: "k", fetch }).runs.stream("nope"))).rejects.toSatisfy(NotFoundError.isInstance);
    expect(fetch.requests).toHaveLength(1);
  });

  it("trusts data.type over a missing event line", async () => {
    const body = `id: 5\ndata: ${JSON.stringify(events[4])}\n\n`;
    const seen = await collect(new Agentd({ apiKey: "k", fetch: fakeFetch(() => sseResponse(body)) }).runs.stream("run_1"));
    expect(seen).toEqual([events[4]]);
  });
});

describe("runs.wait", () => {
  it("resolves with the result built from the events", async () => {
    const result = await new Agentd({ apiKey: "k", fetch: fakeFetch(() => sseResponse(framesAfter(0))) }).runs.wait("run_1");
    expect(result).toMatchObject({ runId: "run_1", text: "Hello", status: "completed", subtype: "success", usage });
    expect(result.events).toHaveLength(5);
  });
});

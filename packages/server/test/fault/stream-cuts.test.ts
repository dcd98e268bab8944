import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeProvider, type FakeProvider } from "@agentd/server/testing";
import { readStream, startTestServer, type TestServer } from "../helpers.js";
import { mulberry32 } from "../helpers.js";
import { readWithCuts } from "./stream-cuts.js";

/**
 * Issue #4's stream fault test: cut client streams at random points (mid-frame
 * too) and resume from the cursor; what the clients assemble equals the stored
 * log. `npm test` runs 100 runs; `npm run test:fault` runs 1,000 (FAULT_RUNS).
 */
const RUNS = Number(process.env.FAULT_RUNS ?? 100);

describe("streams cut at random points", () => {
  let t: TestServer;
  let fake: FakeProvider;
  beforeAll(async () => {
    // Deltas arrive apart, so a run's stream has many frames to cut between.
    fake = await startFakeProvider({ tokens: 12, record: false });
    fake.script(() => ({ text: Array.from({ length: 12 }, (_, i) => `w${i}`).join(" "), chunkDelayMs: 2 }));
    t = await startTestServer({
      config: { providers: [{ name: "fake", type: "openai-compatible", baseUrl: fake.openaiBaseUrl, apiKey: "k", models: [{ id: "f" }] }] },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it(`${RUNS} runs: every client, cut and resumed, assembles exactly the stored log`, async () => {
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 100_000);
    const random = mulberry32(seed);
    let cuts = 0;
    const batch = 20;
    for (let start = 0; start < RUNS; start += batch) {
      const runs = await Promise.all(
        Array.from({ length: Math.min(batch, RUNS - start) }, () =>
          t.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "f", prompt: "go" }),
        ),
      );
      const assembled = await Promise.all(runs.map(({ body }) => readWithCuts(t.url + body.streamUrl, t.key, random)));
      for (const [index, { body }] of runs.entries()) {
        const stored = await readStream(t.url + body.streamUrl, t.key);
        const got = assembled[index]!;
        cuts += got.cuts;
        expect(
          got.frames.map((frame) => frame.data),
          `seed ${seed}, run ${body.runId}`,
        ).toEqual(stored.frames.map((frame) => frame.data));
      }
    }
    expect(cuts).toBeGreaterThan(RUNS / 2);
  }, 300_000);
});

describe("backpressure", () => {
  it("disconnects a reader whose unsent bytes pass the limit instead of buffering without bound", async () => {
    const { EventEmitter } = await import("node:events");
    const { MemoryEventBus } = await import("../../src/bus/memory.js");
    const { streamRun } = await import("../../src/http/sse/index.js");
    // A response whose socket never drains: every write stays buffered.
    const res = Object.assign(new EventEmitter(), {
      writableLength: 0,
      writableEnded: false,
      destroyed: false,
      writeHead: () => undefined,
      flushHeaders: () => undefined,
      write(chunk: string) {
        this.writableLength += chunk.length;
        return false;
      },
      end() {
        this.writableEnded = true;
      },
      destroy() {
        this.destroyed = true;
        emitter.emit("close");
      },
    });
    const emitter: InstanceType<typeof EventEmitter> = res;
    const bus = new MemoryEventBus();
    const events = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        runId: "run_1",
        seq: from + i,
        type: "assistant_delta",
        data: JSON.stringify({ text: "x".repeat(10_000) }),
      }));
    const ctx = { req: new EventEmitter(), res, url: new URL("http://x/"), params: {}, requestId: "req_1" } as never;
    const done = streamRun(
      ctx,
      { reader: { readEvents: async () => [] }, bus, heartbeatMs: 60_000, maxBufferedBytes: 100_000, pageSize: 100 },
      { id: "run_1", ended: false },
      0,
    );
    await new Promise((resolve) => setImmediate(resolve));
    bus.publish("run_1", events(1, 5));
    expect(res.destroyed).toBe(false); // 50 KB buffered: under the limit
    bus.publish("run_1", events(6, 6));
    expect(res.destroyed).toBe(true); // past 100 KB: cut off, it resumes from its cursor
    await done;
  });
});

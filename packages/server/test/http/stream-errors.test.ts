import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agentd } from "@agentd/client";
import { AgentdError, createLogger, createServer, openStore, type AgentdServer, type Store } from "@agentd/server";
import { readStream, startTestServer, tempDir } from "../helpers.js";

/**
 * How a run's stream ends when reading its events fails after the stream's
 * headers (issue #10): a store outage cuts it, so clients reconnect with
 * their cursor; anything else ends it with a terminal `error` frame shaped
 * like the HTTP error body, so clients stop and say why.
 */
const sdkDir = fileURLToPath(new URL("../../../../../shared/seeds/004-extracted/sdk-src/", import.meta.url));
const seedAvailable = existsSync(`${sdkDir}client.ts`);

/** The store, with its event reads failing on demand: the next `failures` reads throw what `error()` makes. */
function failingReads(store: Store): { store: Store; fail(failures: number, error: () => Error): void; reads: () => number } {
  let left = 0;
  let reads = 0;
  let make: () => Error = () => new Error("unset");
  const proxy = new Proxy(store, {
    get(target, property) {
      if (property === "readEvents") {
        return async (...args: Parameters<Store["readEvents"]>) => {
          reads++;
          if (left > 0) {
            left--;
            throw make();
          }
          return target.readEvents(...args);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    store: proxy,
    fail(failures, error) {
      left = failures;
      make = error;
    },
    reads: () => reads,
  };
}

describe("a run's stream whose event reads fail after its headers", () => {
  let server: AgentdServer;
  let url: string;
  let key: string;
  let workspace: string;
  let runId: string;
  let streamUrl: string;
  let stored: string;
  let reads: ReturnType<typeof failingReads>;

  beforeAll(async () => {
    // A finished run, read back by a second process: its events are not in that process's tail cache, so streams read the store.
    const dataDir = tempDir();
    const first = await startTestServer({ dataDir });
    const created = await first.request("POST", "/agent-runs", { systemPrompt: "x", modelId: "mock", prompt: "hello there" });
    ({ runId, streamUrl } = created.body);
    stored = (await readStream(first.url + streamUrl, first.key)).raw;
    ({ key, workspace } = first);
    await first.close();
    reads = failingReads(await openStore({ dataDir }));
    server = await createServer({ store: reads.store, logger: createLogger("silent"), env: {} });
    url = (await server.listen(0)).url;
  });
  afterAll(() => server?.close());

  const client = () => new Agentd({ apiKey: key, baseUrl: url, workspace });

  it("ends with an `error` frame shaped like the HTTP error body (no id: line) and a clean end of the response", async () => {
    reads.fail(1, () => new TypeError("a bug while reading events"));
    const response = await fetch(url + streamUrl, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const requestId = response.headers.get("x-request-id")!;
    // text() resolves: the response ended, the socket was not destroyed.
    const raw = await response.text();
    const message = `internal error; quote request id ${requestId} when reporting it`;
    expect(raw).toBe(`event: error\ndata: ${JSON.stringify({ type: "error", error: message, code: "internal", message, requestId })}\n\n`);
    expect(raw).not.toContain("a bug while reading events");
  });

  it("a domain error keeps its code and message in the frame", async () => {
    reads.fail(1, () => new AgentdError("not_found", "run events not found"));
    const { raw, frames } = await readStream(url + streamUrl, key);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.id).toBeUndefined();
    expect(frames[0]!.event).toBe("error");
    expect(frames[0]!.data).toMatchObject({
      type: "error",
      code: "not_found",
      error: "run events not found",
      message: "run events not found",
    });
    expect(raw.endsWith("\n\n")).toBe(true);
  });

  it("our client throws the frame's error, with its code and request id, without reconnecting", async () => {
    reads.fail(1, () => new TypeError("a bug while reading events"));
    const before = reads.reads();
    const error = await client()
      .runs.wait(runId)
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toMatchObject({ code: "internal" });
    expect((error as { requestId?: string }).requestId).toMatch(/^req_/);
    expect(reads.reads() - before).toBe(1);
  });

  it("a store outage ends the stream without a terminal event instead", async () => {
    reads.fail(1, () => new AgentdError("unavailable", "the database is unavailable: ECONNREFUSED"));
    const response = await fetch(url + streamUrl, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    // A clean end (text() resolves), with nothing in it: no error frame, as the client is to come back.
    expect(await response.text()).toBe("");
  });

  it("a store outage: our client reconnects with its cursor and gets the whole log", async () => {
    reads.fail(2, () => new AgentdError("unavailable", "the database is unavailable: ECONNREFUSED"));
    const events = [];
    for await (const event of client().runs.stream(runId)) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success" });
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events).toHaveLength(stored.split("\n\n").filter(Boolean).length);
  });

  it.skipIf(!seedAvailable)(
    "a store outage: the seed SDK reconnects too, and an `error` frame fails its run with the frame's code",
    async () => {
      const sdk = await import(/* @vite-ignore */ `${sdkDir}client.ts`);
      const seed = new sdk.MantyxClient({ apiKey: key, workspaceSlug: workspace, baseUrl: url });
      reads.fail(2, () => new AgentdError("unavailable", "the database is unavailable: ECONNREFUSED"));
      const result = await seed.driveRun(runId, new Map());
      expect(result.events.at(-1)).toMatchObject({ type: "result", subtype: "success" });
      reads.fail(1, () => new TypeError("a bug while reading events"));
      await expect(seed.driveRun(runId, new Map())).rejects.toMatchObject({ subtype: "internal" });
    },
  );
});

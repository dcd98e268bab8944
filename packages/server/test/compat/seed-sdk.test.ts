import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { eventually, startTestServer, type TestServer } from "../helpers.js";

/**
 * The seed 004 SDK, unchanged, against agentd (shared/PROTOCOL-NOTES.md).
 * It is loaded from ../shared beside the repository; where that folder is
 * missing the suite is skipped and says so.
 */
const sdkDir = fileURLToPath(new URL("../../../../../shared/seeds/004-extracted/sdk-src/", import.meta.url));
const available = existsSync(`${sdkDir}client.ts`);
if (!available) console.warn(`seed SDK compatibility suite skipped: ${sdkDir} not found (it comes from shared/ beside the repo)`);

describe.skipIf(!available)("the seed 004 SDK works against agentd", () => {
  let t: TestServer;
  let sdk: any;
  let tools: any;
  let client: any;

  beforeAll(async () => {
    sdk = await import(/* @vite-ignore */ `${sdkDir}client.ts`);
    tools = await import(/* @vite-ignore */ `${sdkDir}tools.ts`);
    t = await startTestServer({ config: { localToolTimeoutMs: 30_000 } });
    client = new sdk.MantyxClient({ apiKey: t.key, workspaceSlug: t.workspace, baseUrl: t.url });
  });
  afterAll(() => t.close());

  it("lists models", async () => {
    const catalog = await client.listModels();
    expect(catalog.defaultModelId).toBeTruthy();
    expect(catalog.models.some((model: any) => model.id === catalog.defaultModelId)).toBe(true);
  });

  it("runAgent returns the final text and streams deltas", async () => {
    const deltas: string[] = [];
    const result = await client.runAgent({ systemPrompt: "Be brief.", prompt: "ping", onAssistantDelta: (text: string) => deltas.push(text) });
    expect(result.text).toContain("ping");
    expect(deltas.join("")).toBe(result.text);
    expect(result.events.at(-1).type).toBe("result");
  });

  it("streamAgent yields typed events with fields at the top level", async () => {
    const events: any[] = [];
    for await (const event of client.streamAgent({ systemPrompt: "x", prompt: "stream me" })) events.push(event);
    expect(events[0]).toMatchObject({ type: "started", seq: 1 });
    const delta = events.find((event) => event.type === "assistant_delta");
    expect(typeof delta.text).toBe("string");
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "success" });
  });

  it("runs a registry agent by agentId, skipping the agent_resolved event it does not know (issue #11)", async () => {
    expect((await t.request("POST", "/agents", { id: "seed-agent", systemPrompt: "Be brief." })).status).toBe(201);
    const result = await client.runAgent({ agentId: "seed-agent", prompt: "ping registry" });
    expect(result.text).toContain("ping registry");
    expect(result.events[0]).toMatchObject({ type: "agent_resolved", agentId: "seed-agent", agentRevision: 1 });
    expect(result.events.at(-1)).toMatchObject({ type: "result", subtype: "success" });
  });

  it("runs a local tool defined with zod in the caller's process", async () => {
    const seen: unknown[] = [];
    const clock = tools.defineLocalTool({
      name: "get_time",
      description: "Current time in a zone",
      parameters: z.object({ tz: z.string() }),
      execute: async (args: { tz: string }) => {
        seen.push(args);
        return `12:00 in ${args.tz}`;
      },
    });
    const result = await client.runAgent({ systemPrompt: "x", prompt: 'call get_time {"tz":"UTC"}', tools: [clock] });
    expect(seen).toEqual([{ tz: "UTC" }]);
    expect(result.text).toContain("12:00 in UTC");
    const echo = result.events.find((event: any) => event.type === "local_tool_result_in");
    expect(echo.result).toBe("12:00 in UTC");
  });

  it("keeps a conversation in a session and ends it", async () => {
    const session = await client.createSession({ systemPrompt: "x", metadata: { customer: "acme" } });
    const first = await session.send("hello", { metadata: { turn: "1" } });
    expect(first.text).toContain("hello");
    await session.send("again");
    const history = await session.history();
    expect(history.map((message: any) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
    const info = await session.info();
    expect(info).toMatchObject({ status: "active", metadata: { customer: "acme" }, endedAt: null });
    expect(typeof info.lastUsedAt).toBe("string");
    const resumed = await client.resumeSession(session.id);
    expect((await resumed.send("third")).text).toContain("third");
    await session.end();
    expect((await client.getSessionInfo(session.id)).status).toBe("ended");
    await expect(session.send("after end")).rejects.toMatchObject({ status: 409 });
  });

  it("cancelRun ends a waiting run: runAgent rejects with a run error of subtype cancelled", async () => {
    const never = tools.defineLocalTool({ name: "wait_forever", execute: () => new Promise(() => undefined) });
    let runId: string | undefined;
    const running = client.runAgent({
      systemPrompt: "x",
      prompt: "call wait_forever",
      tools: [never],
      onEvent: (event: any) => {
        if (event.type === "started") runId = event.runId;
        if (event.type === "local_tool_call") void client.cancelRun(runId);
      },
    });
    await expect(running).rejects.toMatchObject({ name: "MantyxRunError", subtype: "cancelled" });
    await client.cancelRun(runId); // idempotent
  });

  it("replays after a dropped stream: the SDK reconnects with lastSeq and Last-Event-ID and sees every event once", async () => {
    const seenHeaders: Array<{ lastSeq: string | null; lastEventId: string | null }> = [];
    let cut = false;
    const cuttingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = new URL(String(input));
      if (!url.pathname.endsWith("/stream")) return response;
      seenHeaders.push({ lastSeq: url.searchParams.get("lastSeq"), lastEventId: new Headers(init?.headers).get("last-event-id") });
      if (cut) return response;
      cut = true;
      // deliver the first frames, then drop the connection mid-frame
      const reader = response.body!.getReader();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done || sent > 300) {
            await reader.cancel();
            controller.error(new Error("connection reset"));
            return;
          }
          const slice = sent + value.length > 300 ? value.slice(0, 300 - sent + 7) : value;
          sent += slice.length;
          controller.enqueue(slice);
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const flaky = new sdk.MantyxClient({ apiKey: t.key, workspaceSlug: t.workspace, baseUrl: t.url, fetch: cuttingFetch });
    const result = await flaky.runAgent({ systemPrompt: "x", prompt: "one two three four five six seven eight nine ten eleven twelve" });
    const seqs = result.events.map((event: any) => event.seq);
    expect(seqs).toEqual(seqs.map((_: number, index: number) => index + 1));
    expect(seenHeaders.length).toBeGreaterThanOrEqual(2);
    const resumed = seenHeaders[1]!;
    expect(Number(resumed.lastSeq)).toBeGreaterThan(0);
    expect(resumed.lastEventId).toBe(resumed.lastSeq);
    expect(result.text).toContain("twelve");
  });
});

/**
 * The SDK against a real agentd server in-process on port 0, answered by the
 * built-in mock model (a user line `call <tool> {json}` becomes a tool call).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Agentd, APIUserAbortError, ConflictError, defineTool, NotFoundError } from "../src/index.js";

describe("SDK end to end", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentd-sdk-e2e-"));
  let server: { close(): Promise<void> } | undefined;
  let client: Agentd;

  beforeAll(async () => {
    const { createServer, createApiKey } = await import("@agentd/server");
    const app = await createServer({ dataDir, config: { agents: { helper: { systemPrompt: "You help." } } }, env: {} });
    server = app;
    const { url } = await app.listen(0, "127.0.0.1");
    const { key } = await createApiKey(app.store, { workspace: "default", name: "sdk-e2e" });
    client = new Agentd({ apiKey: key, baseUrl: url });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs a named agent with two local tools answered in one turn", async () => {
    const calls: string[] = [];
    const weather = defineTool({
      name: "get_weather",
      parameters: z.object({ city: z.string() }),
      execute: ({ city }) => (calls.push(city), { city, celsius: 21 }),
    });
    const shout = defineTool({ name: "shout", parameters: z.object({ text: z.string() }), execute: ({ text }) => text.toUpperCase() });
    const deltas: string[] = [];
    const result = await client.agents.run({
      agentId: "helper",
      prompt: 'call get_weather {"city":"Paris"}\ncall shout {"text":"hi"}',
      tools: [weather, shout],
      onDelta: (text) => deltas.push(text),
    });
    expect(result.subtype).toBe("success");
    expect(calls).toEqual(["Paris"]);
    const echoes = result.events.filter((event) => event.type === "local_tool_result_in");
    expect(echoes.map((event) => event.type === "local_tool_result_in" && event.result).sort()).toEqual([
      "HI",
      '{"city":"Paris","celsius":21}',
    ]);
    expect(deltas.join("")).toBe(result.text);
    const seqs = result.events.map((event) => event.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it("decides approvals in-process with onApproval: a rejection reaches the model, an approval runs the tool", async () => {
    const ran: string[] = [];
    const wipe = defineTool({ name: "wipe", description: "Deletes things", requiresApproval: true, parameters: z.object({ what: z.string() }), execute: ({ what }) => (ran.push(what), `wiped ${what}`) });
    const asked: string[] = [];
    const result = await client.agents.run({
      systemPrompt: "x",
      prompt: 'call wipe {"what":"cache"}\ncall wipe {"what":"disk"}',
      tools: [wipe],
      onApproval: ({ args }) => {
        asked.push(String(args.what));
        return args.what === "cache" ? true : { approved: false, reason: "too dangerous" };
      },
    });
    expect(asked.sort()).toEqual(["cache", "disk"]);
    expect(ran).toEqual(["cache"]);
    expect(result.text).toContain("wiped cache");
    expect(result.text).toContain("too dangerous");
  });

  it("replays a finished run from a cursor, each event once", async () => {
    const { runId } = await client.runs.start({ systemPrompt: "s", prompt: "Hello there" });
    const all = await client.runs.wait(runId);
    const tail = [];
    for await (const event of client.runs.stream(runId, { lastSeq: 2 })) tail.push(event);
    expect(tail).toEqual(all.events.slice(2));
    expect((await client.runs.get(runId)).status).toBe("completed");
  });

  it("keeps a conversation in a session and refuses a message after it ends", async () => {
    const session = await client.sessions.create({ systemPrompt: "You help." });
    await session.send("first");
    await session.send("second");
    const info = await session.info();
    expect(info.messages.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
    await session.end();
    await expect(session.send("third")).rejects.toSatisfy(ConflictError.isInstance);
    await expect(client.sessions.get("ses_missing")).rejects.toSatisfy(NotFoundError.isInstance);
  });

  it("cancels the run on the server when the caller aborts", async () => {
    const controller = new AbortController();
    let runId = "";
    const hang = defineTool({
      name: "hang",
      parameters: { type: "object" },
      execute: (_args, context) => {
        runId = context.runId;
        controller.abort();
        return new Promise(() => undefined);
      },
    });
    await expect(
      client.agents.run({ systemPrompt: "s", prompt: "call hang {}", tools: [hang], signal: controller.signal }),
    ).rejects.toSatisfy(APIUserAbortError.isInstance);
    const snapshot = await client.runs.wait(runId).catch(() => client.runs.get(runId));
    expect("status" in snapshot ? snapshot.status : undefined).toBe("cancelled");
  });
});

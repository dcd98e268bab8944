import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Agentd, defineTool, NotFoundError } from "../src/index.js";
import { fakeRun } from "./helpers/fake-run.js";
import { fakeFetch, json } from "./helpers/fake-server.js";

const lookup = defineTool({ name: "lookup", parameters: z.object({ id: z.string() }), execute: ({ id }) => `record ${id}` });
const started = { type: "started", runId: "run_1", modelId: "mock" };
const call = { type: "local_tool_call", toolUseId: "t1", name: "lookup", args: { id: "7" } };

describe("sessions", () => {
  it("creates a session and answers its tool calls on send", async () => {
    const run = fakeRun({ before: [started, call] });
    const fetch = fakeFetch((request) =>
      request.method === "POST" && request.path === "/agent-sessions" ? json({ sessionId: "ses_1", name: "s", createdAt: "now" }, 201) : run.fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: request.signal ?? null,
      }),
    );
    const client = new Agentd({ apiKey: "k", fetch });
    const session = await client.sessions.create({ systemPrompt: "You help.", tools: [lookup], metadata: { team: "a" } });
    expect(session.id).toBe("ses_1");
    expect(fetch.requests[0]?.body).toMatchObject({ systemPrompt: "You help.", metadata: { team: "a" }, tools: [{ kind: "local", name: "lookup" }] });

    const result = await session.send("find 7", { metadata: { turn: "1" } });
    expect(result.text).toBe("Done");
    expect(run.created()?.path).toBe("/agent-sessions/ses_1/messages");
    // Tools were stored with the session: not re-sent per message.
    expect(run.created()?.body).toEqual({ prompt: "find 7", metadata: { turn: "1" } });
    expect(run.toolResults).toEqual([{ toolUseId: "t1", result: "record 7" }]);
  });

  it("resumes a session without a request and refreshes its tool definitions on each message", async () => {
    const run = fakeRun({ before: [started, call], runId: "run_1" });
    const session = new Agentd({ apiKey: "k", fetch: run.fetch }).sessions.resume("ses/9", { tools: [lookup] });
    expect(run.fetch.requests).toHaveLength(0);
    await session.send("again");
    expect(run.created()?.url.pathname).toBe("/api/v1/workspaces/default/agent-sessions/ses%2F9/messages");
    expect(run.created()?.body).toMatchObject({ prompt: "again", tools: [{ kind: "local", name: "lookup" }] });
    expect(run.toolResults).toEqual([{ toolUseId: "t1", result: "record 7" }]);
  });

  it("reads and ends sessions", async () => {
    const info = { id: "ses_1", name: "s", status: "active", messages: [] };
    const fetch = fakeFetch((request) => (request.method === "GET" ? json(info) : request.path === "/agent-sessions/ses_1" ? json({ ok: true }) : json({ code: "not_found", error: "x", message: "x" }, 404)));
    const client = new Agentd({ apiKey: "k", fetch });
    await expect(client.sessions.get("ses_1")).resolves.toEqual(info);
    await expect(client.sessions.resume("ses_1").info()).resolves.toEqual(info);
    await client.sessions.end("ses_1");
    expect(fetch.requests.at(-1)?.method).toBe("DELETE");
    await expect(client.sessions.resume("ses_2").end()).rejects.toSatisfy(NotFoundError.isInstance);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agentd } from "@agentd/client";
import type { RunEvent } from "@agentd/protocol";
import { defineTool } from "@agentd/server";
import { registryOf, scriptedModel } from "@agentd/server/testing";
import { readSse } from "../../../client/src/internal/sse.js";
import { startTestServer, type TestServer } from "../helpers.js";

/**
 * Issue #12, "hostile input, tested": what a model, a tool or a caller puts
 * in a run (text deltas, tool arguments and results, error messages, the
 * final answer, metadata) may hold every character that means something to
 * SSE framing — CR, LF, CRLF, U+2028/U+2029, NUL, lone surrogates where
 * JSON carries them, text that looks like `data:`/`event:`/`id:` lines —
 * and must reach the SDK exactly as it was stored: the same events, the
 * same seqs, no frame injected or split, and every resume point working.
 */
const TRICKS = [
  "cr\rcr",
  "lf\nlf",
  "crlf\r\ncrlf",
  "\r\n\r\n",
  "\n\n",
  "\r\r",
  "ls\u2028ls",
  "ps\u2029ps",
  "nul\u0000nul",
  '\n\ndata: {"seq":999,"type":"result"}\n\n',
  "\r\nevent: result\r\nid: 999\r\n\r\n",
  "\rid: 7\r\rdata: x\r\r",
  ": comment\n\n",
  "data: ",
  "event: ",
  "id: ",
  "retry: 1\n",
  "\ufeffbom",
  "é😀\u0085\u000b\u000c",
];
/** Lone surrogates: valid in JSON text (`\ud800`), not in UTF-8, so only where the server itself produces the JSON (model output, tool results). */
const LONE = ["\ud800", "x\udfffy", "\udc00\ud800"];
const HOSTILE = TRICKS.join(" ¦ ");
const HOSTILE_WITH_LONE = [...TRICKS, ...LONE].join(" ¦ ");

const ARGS = {
  text: HOSTILE_WITH_LONE,
  each: [...TRICKS, ...LONE],
  [HOSTILE]: "key too",
  nested: { "data: 1\n\n": ["\r", "\n", "\u2028"] },
};
const TOOL_RESULT = `result ${HOSTILE_WITH_LONE}`;
const TOOL_ERROR = `error ${HOSTILE_WITH_LONE}`;
const LOCAL_RESULT = `local ${HOSTILE}`;
const FINAL = `final ${HOSTILE_WITH_LONE}`;
const MODEL_ERROR = `model says ${HOSTILE}`;
const METADATA = Object.fromEntries(TRICKS.slice(0, 16).map((value, i) => [`k${i}`, value]));

const model = scriptedModel((request, call) => {
  const prompt = request.messages.find((message) => message.role === "user")?.content ?? "";
  if (prompt === "fail") return { error: { status: 400, message: MODEL_ERROR } };
  if (call % 2 === 0)
    return {
      text: `first ${HOSTILE_WITH_LONE}`,
      toolCalls: [
        { name: "echo", args: ARGS },
        { name: "explode", args: ARGS },
        { name: "ask", args: ARGS },
      ],
    };
  return { text: FINAL };
});

const config = {
  tools: [
    defineTool({ name: "echo", execute: () => TOOL_RESULT }),
    defineTool({ name: "explode", execute: () => Promise.reject(new Error(TOOL_ERROR)) }),
  ],
};
const tools = [
  { kind: "code", name: "echo" },
  { kind: "code", name: "explode" },
  { kind: "local", name: "ask" },
];

async function collect(events: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe("SSE framing of hostile payloads, server to SDK", () => {
  let t: TestServer;
  let client: Agentd;
  /** The run that used every trick, as its live stream delivered it. */
  let runId = "";
  let live: RunEvent[] = [];

  beforeAll(async () => {
    t = await startTestServer({ config, models: registryOf(model) });
    client = new Agentd({ apiKey: t.key, baseUrl: t.url, workspace: t.workspace });
    const created = await t.request("POST", "/agent-runs", { systemPrompt: "s", prompt: "go", tools, metadata: METADATA });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    runId = created.body.runId;
    for await (const event of client.runs.stream(runId)) {
      live.push(event);
      if (event.type === "local_tool_call") {
        const answered = await t.request("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: event.toolUseId, result: LOCAL_RESULT });
        expect(answered.status, JSON.stringify(answered.body)).toBe(200);
      }
    }
  });
  afterAll(() => t?.close());

  /** The run's log as the store holds it: what every stream must deliver. */
  async function stored(id: string): Promise<unknown[]> {
    const events = await t.server.store.readEvents(id, 0, 10_000);
    return events.map((event) => ({ ...JSON.parse(event.data), seq: event.seq, type: event.type }));
  }

  it("delivers every event exactly as stored, seqs 1..n with none injected, and the payloads unchanged", async () => {
    const log = await stored(runId);
    expect(live).toEqual(log);
    expect(live.map((event) => event.seq)).toEqual(log.map((_, i) => i + 1));
    expect(live.filter((event) => event.type === "result")).toHaveLength(1);

    const deltas = live.filter((event) => event.type === "assistant_delta").map((event) => event.text);
    expect(deltas.join("")).toBe(`first ${HOSTILE_WITH_LONE}${FINAL}`);
    const call = live.find((event) => event.type === "tool_call" && event.name === "echo");
    expect(call?.type === "tool_call" && call.args).toEqual(ARGS);
    const local = live.find((event) => event.type === "local_tool_call");
    expect(local?.type === "local_tool_call" && local.args).toEqual(ARGS);
    const answered = live.find((event) => event.type === "local_tool_result_in");
    expect(answered?.type === "local_tool_result_in" && answered.result).toBe(LOCAL_RESULT);
    const exploded = live.find((event) => event.type === "tool_result" && event.name === "explode");
    expect(exploded?.type === "tool_result" && exploded.error).toContain(TOOL_ERROR);
    const echoed = live.find((event) => event.type === "tool_result" && event.name === "echo");
    expect(echoed?.type === "tool_result" && TOOL_RESULT.startsWith(echoed.summary ?? "-")).toBe(true);
    const result = live.at(-1);
    expect(result).toMatchObject({ type: "result", subtype: "success", text: FINAL });
  });

  it("keeps metadata values with CR, LF, U+2028 and NUL unchanged in the run snapshot", async () => {
    expect((await client.runs.get(runId)).metadata).toEqual(METADATA);
  });

  it("delivers a failed run's error message, newlines and lookalike frames included, in its one terminal event", async () => {
    const created = await t.request("POST", "/agent-runs", { systemPrompt: "s", prompt: "fail" });
    expect(created.status).toBe(202);
    const events = await collect(client.runs.stream(created.body.runId));
    expect(events).toEqual(await stored(created.body.runId));
    const terminal = events.filter((event) => event.type === "result");
    expect(terminal).toHaveLength(1);
    expect(terminal[0]).toMatchObject({ subtype: "error_model" });
    expect(terminal[0]?.type === "result" && terminal[0].error).toContain(MODEL_ERROR);
  });

  it("resumes from every seq, by ?lastSeq= (the SDK) and by Last-Event-ID alone, with exactly the events after it", async () => {
    for (let seq = 0; seq < live.length; seq++) {
      expect(await collect(client.runs.stream(runId, { lastSeq: seq })), `lastSeq ${seq}`).toEqual(live.slice(seq));
      const response = await fetch(`${t.api(`/agent-runs/${runId}/stream`)}`, {
        headers: { authorization: `Bearer ${t.key}`, "last-event-id": String(seq) },
      });
      const messages = [];
      for await (const message of readSse(response.body!)) messages.push(message);
      expect(
        messages.map((message) => message.id),
        `Last-Event-ID ${seq}`,
      ).toEqual(live.slice(seq).map((event) => String(event.seq)));
      expect(messages.map((message) => ({ ...JSON.parse(message.data), seq: Number(message.id), type: message.event }))).toEqual(
        live.slice(seq),
      );
    }
  });

  it("reassembles the stream from chunks of 1 to 7 bytes (mid UTF-8 sequence) and resumes a connection cut mid-character", async () => {
    const body = await (await fetch(t.api(`/agent-runs/${runId}/stream`), { headers: { authorization: `Bearer ${t.key}` } })).arrayBuffer();
    const bytes = new Uint8Array(body);
    // Where U+2028 (E2 80 A8) sits on the wire: the first cut falls inside it.
    const cutAt = bytes.findIndex((byte, i) => byte === 0xe2 && bytes[i + 1] === 0x80 && bytes[i + 2] === 0xa8) + 1;
    expect(cutAt).toBeGreaterThan(0);
    let connections = 0;
    const rechunking: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!response.body || !String(input).includes("/stream")) return response;
      const first = connections++ === 0;
      const reader = response.body.getReader();
      let sent = 0;
      let size = 1;
      const pieces = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          for (let at = 0; at < value.length; at += size, size = (size % 7) + 1) {
            let piece = value.subarray(at, at + size);
            if (first && sent + piece.length >= cutAt) {
              piece = piece.subarray(0, cutAt - sent);
              if (piece.length > 0) controller.enqueue(piece);
              await reader.cancel();
              return controller.error(new TypeError("terminated"));
            }
            sent += piece.length;
            controller.enqueue(piece);
          }
        },
      });
      return new Response(pieces, { status: response.status, headers: response.headers });
    };
    const chunked = new Agentd({ apiKey: t.key, baseUrl: t.url, workspace: t.workspace, fetch: rechunking });
    expect(await collect(chunked.runs.stream(runId))).toEqual(live);
    expect(connections).toBe(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, createServer, defineTool, openStore } from "@agentd/server";
import { registryOf, scriptedModel, type ScriptedReply } from "@agentd/server/testing";
import type { ModelStepRequest } from "../../src/models/types.js";
import { eventually, readStream, startTestServer, tempDir, type TestServer } from "../helpers.js";

function playing(turns: ScriptedReply[]) {
  return scriptedModel((request: ModelStepRequest, call: number) => {
    if (call < turns.length) return turns[call]!;
    const results = request.messages.filter((message) => message.role === "tool");
    return { text: `saw ${results.map((message) => (message.role === "tool" ? (message.error ? `error:${message.error}` : message.result) : "")).join(" | ")}` };
  });
}

let executed = 0;
const config = {
  tools: [
    defineTool({
      name: "delete_user",
      execute: (args: Record<string, unknown>) => {
        executed++;
        return `deleted ${String(args.id)}`;
      },
    }),
  ],
};
const approvalTools = [
  { kind: "code", name: "delete_user", requiresApproval: true, parameters: { type: "object", properties: { id: { type: "string" } } } },
  { kind: "local", name: "confirm", requiresApproval: true },
  { kind: "local", name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } },
];

describe("approvals and parallel client tools", () => {
  let t: TestServer;
  let model = playing([]);
  const models = { catalog: () => registryOf(model).catalog(), resolve: () => model };
  beforeAll(async () => {
    t = await startTestServer({ config, models });
  });
  afterAll(() => t.close());

  async function start(turns: ScriptedReply[], extra: Record<string, unknown> = {}) {
    model = playing(turns);
    const { body } = await t.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools: approvalTools, ...extra });
    return body as { runId: string; streamUrl: string };
  }
  const snapshot = async (runId: string) => (await t.request("GET", `/agent-runs/${runId}`)).body;
  const pausedWith = (runId: string, key: "pendingApprovals" | "pendingToolCalls", count: number) =>
    eventually(async () => {
      const body = await snapshot(runId);
      return body.status === "paused" && body[key].length === count ? body : undefined;
    });

  it("pauses on approval_required, lists the run as paused, and runs the tool once approved", async () => {
    executed = 0;
    const run = await start([{ toolCalls: [{ name: "delete_user", args: { id: "u1" } }] }]);
    const paused = await pausedWith(run.runId, "pendingApprovals", 1);
    expect(paused.pendingApprovals[0]).toMatchObject({ name: "delete_user", args: { id: "u1" } });
    expect(executed).toBe(0);
    const listed = await t.request("GET", "/agent-runs?status=paused");
    expect(listed.body.runs.map((r: { id: string }) => r.id)).toContain(run.runId);

    const toolUseId = paused.pendingApprovals[0].toolUseId;
    expect((await t.request("POST", `/agent-runs/${run.runId}/continue`, { approvals: [{ toolUseId, approved: true }] })).status).toBe(200);
    const { frames } = await readStream(t.url + run.streamUrl, t.key);
    const types = frames.map((frame) => frame.data.type);
    expect(types).toEqual(expect.arrayContaining(["approval_required", "approval_decided", "tool_call", "tool_result"]));
    expect(frames.find((frame) => frame.data.type === "approval_required")!.data).toMatchObject({ toolUseId, name: "delete_user", args: { id: "u1" } });
    expect(frames.at(-1)!.data).toMatchObject({ subtype: "success", text: "saw deleted u1" });
    expect(executed).toBe(1);

    const again = await t.request("POST", `/agent-runs/${run.runId}/continue`, { approvals: [{ toolUseId, approved: true }] });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("run_terminal");
  });

  it("a rejection reaches the model as a tool error with the reason; unknown or decided ids are 404", async () => {
    executed = 0;
    const run = await start([{ toolCalls: [{ name: "delete_user", args: { id: "u2" } }, { name: "confirm" }] }]);
    const paused = await pausedWith(run.runId, "pendingApprovals", 2);
    const [first, second] = paused.pendingApprovals;
    const unknown = await t.request("POST", `/agent-runs/${run.runId}/continue`, { approvals: [{ toolUseId: "nope", approved: true }] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("unknown_tool_use");
    // a local tool waiting for approval takes no result yet
    expect((await t.request("POST", `/agent-runs/${run.runId}/tool-results`, { toolUseId: second.toolUseId, result: "x" })).status).toBe(404);

    await t.request("POST", `/agent-runs/${run.runId}/continue`, { approvals: [{ toolUseId: first.toolUseId, approved: false, reason: "not on a Friday" }] });
    const decided = await t.request("POST", `/agent-runs/${run.runId}/continue`, { approvals: [{ toolUseId: first.toolUseId, approved: true }] });
    expect(decided.status).toBe(404);
    // approving the local tool turns it into a local_tool_call the caller answers
    await t.request("POST", `/agent-runs/${run.runId}/continue`, { approvals: [{ toolUseId: second.toolUseId, approved: true }] });
    await pausedWith(run.runId, "pendingToolCalls", 1);
    await t.request("POST", `/agent-runs/${run.runId}/tool-results`, { toolUseId: second.toolUseId, result: "confirmed" });
    const { frames } = await readStream(t.url + run.streamUrl, t.key);
    expect(frames.at(-1)!.data.text).toBe("saw error:the call was rejected by a human: not on a Friday | confirmed");
    expect(executed).toBe(0);
  });

  it("parallel client tools: results in reverse order, each accepted once, the model goes on only when all are in", async () => {
    const run = await start([{ toolCalls: [{ name: "lookup", args: { q: "a" } }, { name: "lookup", args: { q: "b" } }, { name: "lookup", args: { q: "c" } }] }]);
    const paused = await pausedWith(run.runId, "pendingToolCalls", 3);
    const ids = paused.pendingToolCalls.map((call: { toolUseId: string }) => call.toolUseId);
    for (const [index, id] of [...ids].reverse().entries()) {
      expect((await t.request("POST", `/agent-runs/${run.runId}/tool-results`, { toolUseId: id, result: `r${index}` })).status).toBe(200);
      if (index < 2) {
        expect(model.calls).toHaveLength(1); // still waiting
        const duplicate = await t.request("POST", `/agent-runs/${run.runId}/tool-results`, { toolUseId: id, result: "dup" });
        expect(duplicate.status).toBe(404);
        // The same answer again (an SDK's retry after a lost reply) is taken as already given: 200, not recorded twice.
        const retried = await t.request("POST", `/agent-runs/${run.runId}/tool-results`, { toolUseId: id, result: `r${index}` });
        expect(retried.status).toBe(200);
      }
    }
    const { frames } = await readStream(t.url + run.streamUrl, t.key);
    expect(frames.filter((frame) => frame.data.type === "local_tool_call")).toHaveLength(3);
    expect(frames.filter((frame) => frame.data.type === "local_tool_result_in")).toHaveLength(3);
    // history pairs each call with exactly one result, in call order
    const seen = model.calls[1]!.messages;
    const toolMessages = seen.filter((message) => message.role === "tool").map((message) => (message.role === "tool" ? [message.toolUseId, message.result] : []));
    expect(toolMessages).toEqual([
      [ids[0], "r2"],
      [ids[1], "r1"],
      [ids[2], "r0"],
    ]);
  });

  it("the continue body is validated naming the field", async () => {
    const run = await start([{ toolCalls: [{ name: "confirm" }] }]);
    for (const body of [{}, { approvals: [] }, { approvals: [{ toolUseId: "x" }] }, { approvals: [{ toolUseId: "x", approved: "yes" }] }]) {
      const response = await t.request("POST", `/agent-runs/${run.runId}/continue`, body);
      expect(response.status).toBe(400);
      expect(response.body.error).toContain("approvals");
    }
    await t.request("POST", `/agent-runs/${run.runId}/cancel`);
  });
});

describe("approval deadlines", () => {
  const cases = [
    ["error", { type: "result", subtype: "error_approval_timeout" }],
    ["cancel", { type: "cancelled" }],
    ["reject", { type: "result", subtype: "success", text: "saw error:the call was rejected by a human: no decision within 150 ms" }],
  ] as const;
  for (const [onTimeout, expected] of cases) {
    it(`onTimeout: ${onTimeout}`, async () => {
      const model = playing([{ toolCalls: [{ name: "confirm" }] }]);
      const t = await startTestServer({ models: { catalog: () => registryOf(model).catalog(), resolve: () => model } });
      try {
        const { body } = await t.request("POST", "/agent-runs", {
          systemPrompt: "x",
          prompt: "go",
          tools: [{ kind: "local", name: "confirm", requiresApproval: true }],
          approval: { timeoutMs: 150, onTimeout },
        });
        const { frames } = await readStream(t.url + body.streamUrl, t.key);
        expect(frames.at(-1)!.data).toMatchObject(expected);
      } finally {
        await t.close();
      }
    });
  }
});

describe("a pending approval survives a restart", () => {
  it("is listed after the restart and the run finishes once approved", async () => {
    executed = 0;
    const model = playing([{ toolCalls: [{ name: "delete_user", args: { id: "u9" } }] }]);
    const models = { catalog: () => registryOf(model).catalog(), resolve: () => model };
    const dataDir = tempDir();
    const first = await startTestServer({ dataDir, config, models });
    const { body } = await first.request("POST", "/agent-runs", { systemPrompt: "x", prompt: "go", tools: approvalTools });
    const call = await eventually(async () => (await first.request("GET", `/agent-runs/${body.runId}`)).body.pendingApprovals[0]);
    await first.close();

    const server = await createServer({ store: await openStore({ dataDir }), config, models, logger: createLogger("silent"), env: {} });
    const { url } = await server.listen(0);
    try {
      const headers = { authorization: `Bearer ${first.key}`, "content-type": "application/json" };
      const api = `${url}/api/v1/workspaces/${first.workspace}`;
      const listed = await (await fetch(`${api}/agent-runs?status=paused`, { headers })).json();
      expect(listed.runs.find((run: { id: string }) => run.id === body.runId).pendingApprovals).toEqual([call]);
      const decided = await fetch(`${api}/agent-runs/${body.runId}/continue`, { method: "POST", headers, body: JSON.stringify({ approvals: [{ toolUseId: call.toolUseId, approved: true }] }) });
      expect(decided.status).toBe(200);
      const { frames } = await readStream(url + body.streamUrl, first.key);
      expect(frames.at(-1)!.data).toMatchObject({ subtype: "success", text: "saw deleted u9" });
      expect(executed).toBe(1);
    } finally {
      await server.close();
    }
  });
});

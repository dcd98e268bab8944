import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createLogger, createServer, openStore, createApiKey, type AgentdServer } from "@agentd/server";
import { registryOf, scriptedModel, type ScriptedReply } from "@agentd/server/testing";
import { parseSse, tempDir } from "../helpers.js";

/**
 * The run state machine under any interleaving of tool results (valid,
 * duplicate, unknown), cancels, restarts of the server and waiting: the log
 * stays gapless from seq 1, ends in exactly one terminal event with nothing
 * after it, and every tool call gets at most one result.
 */
type Turn = { kind: "text" } | { kind: "tools"; count: number } | { kind: "error" };
type Action = { kind: "answer"; pick: number } | { kind: "duplicate" } | { kind: "unknown" } | { kind: "cancel" } | { kind: "restart" } | { kind: "wait" };

const turn: fc.Arbitrary<Turn> = fc.oneof(
  fc.constant({ kind: "text" as const }),
  fc.integer({ min: 1, max: 3 }).map((count) => ({ kind: "tools" as const, count })),
  fc.constant({ kind: "error" as const }),
);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(5).map((pick) => ({ kind: "answer" as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ kind: "duplicate" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "unknown" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "cancel" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "wait" as const }) },
);

const TOOLS = ["alpha", "beta", "gamma"];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("run state machine properties", () => {
  const stats = { toolResults: 0, restarts: 0 };
  it("any interleaving keeps seq gapless and ends in exactly one terminal event", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(turn, { minLength: 1, maxLength: 4 }), fc.array(action, { maxLength: 10 }), async (turns, actions) => {
        const model = scriptedModel((_request, call): ScriptedReply => {
          const next = turns[call];
          if (!next || next.kind === "text") return { text: `answer ${call}` };
          if (next.kind === "error") return { error: { status: 500, message: "boom" } };
          return { toolCalls: Array.from({ length: next.count }, (_, index) => ({ name: TOOLS[index % TOOLS.length]!, args: { call, index } })) };
        });
        const models = registryOf(model);
        const dataDir = tempDir();
        const start = async () => {
          const server = await createServer({ store: await openStore({ dataDir }), models, logger: createLogger("silent"), env: {} });
          const { url } = await server.listen(0);
          return { server, url };
        };
        const keyStore = await openStore({ dataDir });
        const { key } = await createApiKey(keyStore, { workspace: "prop" });
        await keyStore.close();
        let current: { server: AgentdServer; url: string } = await start();
        const call = async (method: string, path: string, body?: unknown) => {
          const response = await fetch(`${current.url}/api/v1/workspaces/prop${path}`, {
            method,
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          return { status: response.status, body: await response.json() };
        };
        try {
          const created = await call("POST", "/agent-runs", {
            systemPrompt: "p",
            modelId: model.id,
            prompt: "go",
            budgets: { maxToolTurns: 10 },
            tools: TOOLS.map((name) => ({ kind: "local", name })),
          });
          expect(created.status).toBe(202);
          const runId = created.body.runId as string;
          let lastAnswered: string | undefined;

          for (const step of actions) {
            if (step.kind === "wait") await sleep(3);
            if (step.kind === "restart") {
              await current.server.close();
              current = await start();
            }
            if (step.kind === "cancel") expect((await call("POST", `/agent-runs/${runId}/cancel`)).status).toBe(200);
            if (step.kind === "unknown") {
              const response = await call("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: "tu_nope", result: "x" });
              expect([200, 404, 409]).toContain(response.status);
              if (response.status === 200) expect(response.body.ignored).toBe(true);
            }
            if (step.kind === "duplicate" && lastAnswered) {
              const response = await call("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: lastAnswered, result: "again" });
              expect([200, 404, 409]).toContain(response.status);
              if (response.status === 200) expect(response.body.ignored).toBe(true);
            }
            if (step.kind === "answer") {
              const pending = (await call("GET", `/agent-runs/${runId}`)).body.pendingToolCalls as Array<{ toolUseId: string }>;
              const target = pending[step.pick % Math.max(1, pending.length)];
              if (target) {
                const response = await call("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: target.toolUseId, result: `r${step.pick}` });
                expect([200, 404, 409]).toContain(response.status);
                lastAnswered = target.toolUseId;
              }
            }
          }

          // settle: answer whatever is pending until the run ends
          const deadline = Date.now() + 5000;
          for (;;) {
            const snapshot = (await call("GET", `/agent-runs/${runId}`)).body;
            if (["completed", "failed", "cancelled"].includes(snapshot.status)) break;
            if (Date.now() > deadline) throw new Error(`run did not settle: ${JSON.stringify(snapshot)}`);
            for (const pending of snapshot.pendingToolCalls) {
              await call("POST", `/agent-runs/${runId}/tool-results`, { toolUseId: pending.toolUseId, result: "settle" });
            }
            await sleep(2);
          }

          const raw = await (await fetch(`${current.url}/api/v1/workspaces/prop/agent-runs/${runId}/stream`, { headers: { authorization: `Bearer ${key}` } })).text();
          const events = parseSse(raw).map((frame) => frame.data);
          expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
          const terminals = events.filter((event) => event.type === "result" || event.type === "cancelled");
          expect(terminals).toHaveLength(1);
          expect(events.at(-1)).toBe(terminals[0]);
          const called = new Set(events.filter((event) => event.type === "local_tool_call").map((event) => event.toolUseId));
          const answered = events.filter((event) => event.type === "local_tool_result_in").map((event) => event.toolUseId);
          expect(new Set(answered).size).toBe(answered.length);
          for (const id of answered) expect(called.has(id)).toBe(true);
          const snapshot = (await call("GET", `/agent-runs/${runId}`)).body;
          expect(snapshot.lastSeq).toBe(events.length);
          // the model goes on only when every call of its turn has exactly one result
          let open = new Set<string>();
          for (const event of events) {
            if (event.type === "assistant_message") {
              expect([...open]).toEqual([]);
              open = new Set(event.toolCalls.map((toolCall: { toolUseId: string }) => toolCall.toolUseId));
            }
            if (event.type === "local_tool_result_in") {
              expect(open.has(event.toolUseId)).toBe(true);
              open.delete(event.toolUseId);
            }
          }
          // and the model saw each call paired with one result
          for (const request of model.calls) {
            const calls = request.messages.flatMap((message) => (message.role === "assistant" ? (message.toolCalls ?? []).map((toolCall) => toolCall.toolUseId) : []));
            const results = request.messages.flatMap((message) => (message.role === "tool" ? [message.toolUseId] : []));
            expect(results).toEqual(calls);
          }
          stats.toolResults += answered.length;
          stats.restarts += actions.filter((step) => step.kind === "restart").length;
        } finally {
          await current.server.close();
        }
      }),
      { numRuns: 40 },
    );
    // the generator does reach the interesting paths
    expect(stats.toolResults).toBeGreaterThan(5);
    expect(stats.restarts).toBeGreaterThan(2);
  }, 120_000);
});

import { startFakeProvider } from "@agentd/server/testing";
import { expect, test } from "vitest";

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("non-streaming requests get a JSON completion in each protocol", async () => {
  const fake = await startFakeProvider();
  try {
    fake.script({ text: "hi there", toolCalls: [{ name: "f", args: { a: 1 }, id: "c1" }] });
    const openai = await (await post(`${fake.openaiBaseUrl}/chat/completions`, { model: "m", messages: [] })).json();
    expect(openai.choices[0].message).toEqual({ role: "assistant", content: "hi there", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } }] });
    const anthropic = await (await post(`${fake.anthropicBaseUrl}/messages`, { model: "m", messages: [] })).json();
    expect(anthropic.content).toEqual([{ type: "text", text: "hi there" }, { type: "tool_use", id: "c1", name: "f", input: { a: 1 } }]);
    expect(anthropic.stop_reason).toBe("tool_use");
  } finally {
    await fake.close();
  }
});

test("a list script answers once per call, then the default reply of `tokens` words", async () => {
  const fake = await startFakeProvider({ tokens: 3 });
  try {
    fake.script([{ text: "first" }, { error: { status: 503, message: "busy" } }]);
    const url = `${fake.openaiBaseUrl}/chat/completions`;
    expect((await (await post(url, {})).json()).choices[0].message.content).toBe("first");
    const failed = await post(url, {});
    expect([failed.status, (await failed.json()).error.message]).toEqual([503, "busy"]);
    expect((await (await post(url, {})).json()).choices[0].message.content).toBe("tok0 tok1 tok2");
    const stream = await (await post(url, { stream: true, stream_options: { include_usage: true } })).text();
    expect(stream.match(/"content":"tok\d ?"/g)).toEqual(['"content":"tok0 "', '"content":"tok1 "', '"content":"tok2"']);
    expect(stream).toContain('"completion_tokens":3');
    expect(stream.endsWith("data: [DONE]\n\n")).toBe(true);
  } finally {
    await fake.close();
  }
});

test("record: false counts requests without keeping them; unknown routes are 404", async () => {
  const fake = await startFakeProvider({ record: false });
  try {
    await post(`${fake.anthropicBaseUrl}/messages`, { stream: true });
    expect(fake.requestCount).toBe(1);
    expect(fake.requests).toHaveLength(0);
    expect((await post(`${fake.url}/v1/responses`, {})).status).toBe(404);
  } finally {
    await fake.close();
  }
});

test("latencyMs delays the first byte; close() ends hanging requests", async () => {
  const fake = await startFakeProvider({ latencyMs: 80 });
  const started = Date.now();
  await post(`${fake.openaiBaseUrl}/chat/completions`, {});
  expect(Date.now() - started).toBeGreaterThanOrEqual(70);
  fake.script({ hang: true });
  const hanging = post(`${fake.openaiBaseUrl}/chat/completions`, {}).catch((error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 120));
  await fake.close();
  expect(await hanging).toBeInstanceOf(Error);
});

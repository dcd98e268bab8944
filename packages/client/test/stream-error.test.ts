import type { RunEvent } from "@agentd/protocol";
import { describe, expect, it } from "vitest";
import { Agentd, AgentdError, APIError } from "../src/index.js";
import { at, fakeFetch, frame, sseResponse } from "./helpers/fake-server.js";

const started = { seq: 1, at, type: "started", runId: "run_1", modelId: "mock" };
const delta = { seq: 2, at, type: "assistant_delta", text: "Hel" };
const body = {
  type: "error",
  error: "internal error; quote request id req_9 when reporting it",
  code: "internal",
  message: "internal error; quote request id req_9 when reporting it",
  requestId: "req_9",
};

async function collectUntilThrown(iterable: AsyncIterable<RunEvent>): Promise<{ seen: RunEvent[]; error: unknown }> {
  const seen: RunEvent[] = [];
  try {
    for await (const event of iterable) seen.push(event);
  } catch (error) {
    return { seen, error };
  }
  return { seen, error: undefined };
}

describe("an `error` frame on the run stream", () => {
  it("is thrown as an error carrying the frame's code, message and request id, after the events before it, without a reconnect", async () => {
    const fetch = fakeFetch(() => sseResponse(frame(started) + frame(delta) + `event: error\ndata: ${JSON.stringify(body)}\n\n`));
    const { seen, error } = await collectUntilThrown(new Agentd({ apiKey: "k", fetch }).runs.stream("run_1"));
    expect(seen.map((event) => event.seq)).toEqual([1, 2]);
    expect(AgentdError.isInstance(error)).toBe(true);
    // The HTTP status was 200: this is not an APIError with a made-up status, and not one to retry.
    expect(APIError.isInstance(error)).toBe(false);
    const thrown = error as AgentdError;
    expect(thrown.message).toBe(body.message);
    expect(thrown.code).toBe("internal");
    expect(thrown.requestId).toBe("req_9");
    expect(thrown.body).toEqual(body);
    expect(fetch.requests).toHaveLength(1);
  });

  it("is recognised by data.type when a proxy stripped the event line", async () => {
    const fetch = fakeFetch(() => sseResponse(frame(started) + `data: ${JSON.stringify({ ...body, code: "unavailable" })}\n\n`));
    const { seen, error } = await collectUntilThrown(new Agentd({ apiKey: "k", fetch }).runs.stream("run_1"));
    expect(seen).toHaveLength(1);
    expect((error as AgentdError).code).toBe("unavailable");
    expect(fetch.requests).toHaveLength(1);
  });

  it("fails runs.wait too, with the same error", async () => {
    const fetch = fakeFetch(() => sseResponse(frame(started) + `event: error\ndata: ${JSON.stringify(body)}\n\n`));
    await expect(new Agentd({ apiKey: "k", fetch }).runs.wait("run_1")).rejects.toMatchObject({ code: "internal", requestId: "req_9" });
  });
});

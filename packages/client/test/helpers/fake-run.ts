import { at, fakeFetch, frame, json, sseStream, usage, type FakeRequest } from "./fake-server.js";

type Frame = { type: string; [key: string]: unknown };

/**
 * One run on a fake server: the stream first sends `before`, then waits for
 * a tool result for every `local_tool_call` among them, then sends `after`
 * (default: a successful result) and closes.
 */
export function fakeRun(script: { before: Frame[]; after?: Frame[]; runId?: string }) {
  const runId = script.runId ?? "run_1";
  const toolResults: Array<{ toolUseId: string; result?: string; error?: string }> = [];
  const cancels: FakeRequest[] = [];
  const expected = script.before.filter((e) => e.type === "local_tool_call").length;
  let seq = 0;
  const stamp = (e: Frame) => ({ seq: ++seq, at, ...e });
  let finish: (() => void) | undefined;
  let created: FakeRequest | undefined;
  const fetch = fakeFetch((request) => {
    if (request.method === "POST" && (request.path === "/agent-runs" || request.path.endsWith("/messages"))) {
      created = request;
      return json({ runId, streamUrl: `/stream/${runId}` }, 202);
    }
    if (request.method === "GET" && request.path === `/agent-runs/${runId}/stream`) {
      const stream = sseStream(request.signal);
      stream.write(script.before.map((e) => frame(stamp(e))).join(""));
      finish = () => {
        const after = script.after ?? [
          { type: "assistant_delta", text: "Do" },
          { type: "assistant_delta", text: "ne" },
          { type: "result", subtype: "success", text: "Done", usage, durationMs: 3 },
        ];
        stream.write(after.map((e) => frame(stamp(e))).join(""));
        stream.close();
      };
      if (expected === 0 && script.after !== null) finish();
      return stream.response;
    }
    if (request.method === "POST" && request.path === `/agent-runs/${runId}/tool-results`) {
      toolResults.push(request.body as (typeof toolResults)[number]);
      if (toolResults.length === expected) finish?.();
      return json({ ok: true });
    }
    if (request.method === "POST" && request.path === `/agent-runs/${runId}/cancel`) {
      cancels.push(request);
      return json({ ok: true });
    }
    return json({ error: "not found", code: "not_found", message: "not found" }, 404);
  });
  return { fetch, toolResults, cancels, created: () => created };
}

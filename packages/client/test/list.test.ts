import { describe, expect, it } from "vitest";
import { Agentd, AgentdError, APIUserAbortError, BadRequestError, type RunSnapshot } from "../src/index.js";
import { errorBody, fakeFetch, json, type FakeRequest } from "./helpers/fake-server.js";

/** Just enough of a snapshot to tell runs apart. */
const run = (id: string) => ({ id, runId: id, status: "completed" }) as unknown as RunSnapshot;

/** A server holding `total` runs (run_1 newest), answering pages of `limit` with cursor `c<offset>`. */
function pagedServer(total: number) {
  const all = Array.from({ length: total }, (_, index) => run(`run_${index + 1}`));
  return fakeFetch((request: FakeRequest) => {
    if (request.method !== "GET" || request.path !== "/agent-runs") return errorBody("not_found", "no route", 404);
    const limit = Number(request.query.get("limit") ?? 20);
    const offset = Number(request.query.get("cursor")?.slice(1) ?? 0);
    const runs = all.slice(offset, offset + limit);
    return json({ runs, nextCursor: offset + limit < total ? `c${offset + limit}` : null });
  });
}

describe("runs.list", () => {
  it("awaits to the first page, with every filter encoded as the server reads it", async () => {
    const fetch = pagedServer(3);
    const client = new Agentd({ apiKey: "k", fetch, workspace: "team a" });
    const page = await client.runs.list({
      status: ["paused", "running"],
      agentId: "support/bot",
      sessionId: "ses_1",
      metadata: { customer: "a&b c", "trace.id": "x:y" },
      createdAfter: new Date("2026-01-02T03:04:05.006Z"),
      createdBefore: "2026-02-01T00:00:00+01:00",
      limit: 2,
    });
    expect(page).toEqual({ runs: [run("run_1"), run("run_2")], nextCursor: "c2" });
    expect(fetch.requests).toHaveLength(1);
    const [request] = fetch.requests;
    expect(request!.url.pathname).toBe("/api/v1/workspaces/team%20a/agent-runs");
    const query = request!.query;
    expect(query.getAll("status")).toEqual(["paused", "running"]);
    expect(query.getAll("metadata")).toEqual(["customer:a&b c", "trace.id:x:y"]);
    expect(query.get("agentId")).toBe("support/bot");
    expect(query.get("sessionId")).toBe("ses_1");
    expect(query.get("createdAfter")).toBe("2026-01-02T03:04:05.006Z");
    expect(query.get("createdBefore")).toBe("2026-02-01T00:00:00+01:00");
    expect(query.get("limit")).toBe("2");
    expect(query.has("cursor")).toBe(false);
    // Encoded, not concatenated: the raw query holds no bare `&` or space from a value.
    expect(request!.url.search).toContain("metadata=customer%3Aa%26b+c");
  });

  it("sends a single status as one parameter, and nothing for filters not given", async () => {
    const fetch = pagedServer(1);
    await new Agentd({ apiKey: "k", fetch }).runs.list({ status: "paused" });
    await new Agentd({ apiKey: "k", fetch }).runs.list();
    expect(fetch.requests.map((request) => request.url.search)).toEqual(["?status=paused", ""]);
  });

  it("iterates every run across pages, fetching each page only when the loop needs it", async () => {
    const fetch = pagedServer(7);
    const list = new Agentd({ apiKey: "k", fetch }).runs.list({ limit: 3, metadata: { env: "prod" } });
    expect(fetch.requests).toHaveLength(0);
    const seen: string[] = [];
    const requestsAt: number[] = [];
    for await (const item of list) {
      seen.push(item.id);
      requestsAt.push(fetch.requests.length);
    }
    expect(seen).toEqual(["run_1", "run_2", "run_3", "run_4", "run_5", "run_6", "run_7"]);
    expect(requestsAt).toEqual([1, 1, 1, 2, 2, 2, 3]);
    // Every page carries the filters; later ones the previous page's cursor.
    expect(fetch.requests.map((request) => [request.query.get("cursor"), request.query.get("metadata"), request.query.get("limit")])).toEqual([
      [null, "env:prod", "3"],
      ["c3", "env:prod", "3"],
      ["c6", "env:prod", "3"],
    ]);
  });

  it("stops fetching on break", async () => {
    const fetch = pagedServer(50);
    for await (const item of new Agentd({ apiKey: "k", fetch }).runs.list({ limit: 10 })) {
      if (item.id === "run_12") break;
    }
    expect(fetch.requests).toHaveLength(2);
  });

  it("reuses an awaited first page when iterating, and starts from a given cursor", async () => {
    const fetch = pagedServer(4);
    const client = new Agentd({ apiKey: "k", fetch });
    const list = client.runs.list({ limit: 2 });
    expect((await list).runs).toHaveLength(2);
    const all: string[] = [];
    for await (const item of list) all.push(item.id);
    expect(all).toEqual(["run_1", "run_2", "run_3", "run_4"]);
    expect(fetch.requests.map((request) => request.query.get("cursor"))).toEqual([null, "c2"]);

    const resumed: string[] = [];
    for await (const item of client.runs.list({ limit: 2, cursor: "c2" })) resumed.push(item.id);
    expect(resumed).toEqual(["run_3", "run_4"]);
  });

  it("rejects with the mapped error, from await and from a later page mid-iteration", async () => {
    const bad = fakeFetch(() => errorBody("invalid_request", "status: invalid value 'nope'", 400));
    await expect(new Agentd({ apiKey: "k", fetch: bad, maxRetries: 0 }).runs.list()).rejects.toSatisfy(BadRequestError.isInstance);

    let calls = 0;
    const flaky = fakeFetch(() => (++calls === 1 ? json({ runs: [run("run_1")], nextCursor: "c1" }) : errorBody("invalid_request", "cursor: malformed", 400)));
    const seen: string[] = [];
    const iterate = async () => {
      for await (const item of new Agentd({ apiKey: "k", fetch: flaky, maxRetries: 0 }).runs.list()) seen.push(item.id);
    };
    await expect(iterate()).rejects.toThrow("cursor: malformed");
    expect(seen).toEqual(["run_1"]);
  });

  it("stops instead of looping when a server repeats a cursor", async () => {
    const stuck = fakeFetch(() => json({ runs: [run("run_1")], nextCursor: "same" }));
    const seen: string[] = [];
    const iterate = async () => {
      for await (const item of new Agentd({ apiKey: "k", fetch: stuck }).runs.list()) seen.push(item.id);
    };
    await expect(iterate()).rejects.toSatisfy(AgentdError.isInstance);
    expect(seen).toEqual(["run_1", "run_1"]);
    expect(stuck.requests).toHaveLength(2);
  });

  it("honours an abort signal on the pages after the first", async () => {
    const controller = new AbortController();
    // The second page never comes: only the abort can end the wait.
    const fetch = fakeFetch((request) => (request.query.has("cursor") ? new Promise<Response>(() => {}) : json({ runs: [run("run_1")], nextCursor: "c1" })));
    const seen: string[] = [];
    const iterate = async () => {
      for await (const item of new Agentd({ apiKey: "k", fetch }).runs.list({}, { signal: controller.signal })) {
        seen.push(item.id);
        setTimeout(() => controller.abort(), 5);
      }
    };
    await expect(iterate()).rejects.toSatisfy(APIUserAbortError.isInstance);
    expect(seen).toEqual(["run_1"]);
    expect(fetch.requests.map((request) => request.signal?.aborted)).toEqual([false, true]);
  });
});

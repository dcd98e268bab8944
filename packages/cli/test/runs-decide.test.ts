import { describe, expect, it } from "vitest";
import { main } from "../src/index.js";
import { captureContext, fakeApi } from "./helpers.js";

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const waiting = { pendingApprovals: [{ toolUseId: "call_0", name: "wipe", args: {} }, { toolUseId: "call_1", name: "wipe", args: {} }] };

describe("agentd runs approve / reject", () => {
  it("approves every call the run waits on when no id is given", async () => {
    const api = fakeApi({ "GET /agent-runs/run_1": () => json(waiting), "POST /agent-runs/run_1/continue": () => json({ ok: true }) });
    const io = captureContext({ fetch: api });
    expect(await main(["runs", "approve", "run_1"], io.context)).toBe(0);
    expect(api.sent.at(-1)!.body).toEqual({ approvals: [{ toolUseId: "call_0", approved: true }, { toolUseId: "call_1", approved: true }] });
    expect(io.stdout()).toBe("approved call_0, call_1\n");
  });

  it("rejects the named calls with a reason", async () => {
    const api = fakeApi({ "POST /agent-runs/run_1/continue": () => json({ ok: true }) });
    const io = captureContext({ fetch: api });
    expect(await main(["runs", "reject", "run_1", "call_1", "--reason", "not today"], io.context)).toBe(0);
    expect(api.sent).toHaveLength(1);
    expect(api.sent[0]!.body).toEqual({ approvals: [{ toolUseId: "call_1", approved: false, reason: "not today" }] });
  });

  it("exits 1 when the run waits on nothing, and reports the server's error", async () => {
    const idle = captureContext({ fetch: fakeApi({ "GET /agent-runs/run_2": () => json({ pendingApprovals: [] }) }) });
    expect(await main(["runs", "approve", "run_2"], idle.context)).toBe(1);
    expect(idle.stderr()).toContain("not waiting for any approval");
    const gone = captureContext({
      fetch: fakeApi({ "POST /agent-runs/run_3/continue": () => json({ error: "run run_3 has already finished (completed)", code: "run_terminal", message: "run run_3 has already finished (completed)" }, 409) }),
    });
    expect(await main(["runs", "approve", "run_3", "call_0"], gone.context)).toBe(1);
    expect(gone.stderr()).toContain("already finished");
  });
});

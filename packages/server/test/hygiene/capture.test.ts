import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApiKey, createLogger, openStore } from "@agentd/server";
import { startTestServer } from "../helpers.js";
import { keysIn } from "./suite-logs.js";

/**
 * The suite-wide log check (suite-logs.ts) is only as good as what it
 * captures: these hold the capture to what it promises, so a check that
 * silently searches nothing fails here.
 */
const dir = process.env.AGENTD_TEST_LOG_DIR!;
const captured = () => readFileSync(join(dir, `log-${process.pid}.jsonl`), "utf8");

describe("the suite's log capture", () => {
  it("is on in the test processes", () => {
    expect(dir, "vitest.config.ts globalSetup sets AGENTD_TEST_LOG_DIR").toBeTruthy();
  });

  it("finds a key made anywhere by its checksum, and not its display prefix or noise of its shape", async () => {
    const store = await openStore({ memory: true });
    const { key } = await createApiKey(store, { workspace: "capture" });
    await store.close();
    expect(keysIn(`{"msg":"oops","authorization":"Bearer ${key}"}`)).toEqual([key]);
    expect(keysIn(`key ${key.slice(0, 8)}… made`)).toEqual([]);
    const flipped = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    expect(keysIn(`not a key: ${flipped}`)).toEqual([]);
  });

  it("captures a silent logger's lines at info, and still gives a logger's own destination only its level", () => {
    const marker = `marker-${Math.random()}`;
    createLogger("silent").info({ marker }, "silent but captured");
    const written: string[] = [];
    const warn = createLogger("warn", (line) => written.push(line));
    warn.info({ marker: `${marker}-info` }, "below warn");
    warn.warn({ marker: `${marker}-warn` }, "at warn");
    expect(captured()).toContain(marker);
    expect(captured()).toContain(`${marker}-info`);
    expect(written.join("")).not.toContain(`${marker}-info`);
    expect(written.join("")).toContain(`${marker}-warn`);
  });

  it("captures a test server's request lines, even with a hand-made logger that drops them", async () => {
    const t = await startTestServer({
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      workspace: "capture-b",
    });
    const response = await t.request("GET", "/agent-runs/run_capture_probe");
    await t.close();
    expect(response.status).toBe(404);
    const line = captured()
      .split("\n")
      .find((entry) => entry.includes("run_capture_probe"));
    expect(line && JSON.parse(line)).toMatchObject({ level: "info", msg: "request", status: 404, runId: "run_capture_probe" });
  });
});

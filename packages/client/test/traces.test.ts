/**
 * `client.traces` and `client.runs.delete` against a real agentd in-process
 * (issue #11), answered by the built-in mock model.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agentd, ConflictError, NotFoundError } from "../src/index.js";

describe("SDK traces", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentd-sdk-traces-"));
  let server: { close(): Promise<void> } | undefined;
  let client: Agentd;

  beforeAll(async () => {
    const { createServer, createApiKey } = await import("@agentd/server");
    const app = await createServer({ dataDir, env: {} });
    server = app;
    const { url } = await app.listen(0, "127.0.0.1");
    const { key } = await createApiKey(app.store, { workspace: "default", name: "sdk-traces" });
    client = new Agentd({ apiKey: key, baseUrl: url });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reads a run's trace, lists it, deletes it, then deletes the run", async () => {
    const { runId } = await client.runs.start({
      systemPrompt: "Be brief.",
      modelId: "mock",
      prompt: "hello",
      metadata: { suite: "sdk-traces" },
    });
    await client.runs.wait(runId);
    const trace = await client.traces.get(runId);
    expect(trace.runId).toBe(runId);
    expect(trace.spans.map((span) => span.name).sort()).toEqual(["model", "run"]);
    const page = await client.traces.list({ metadata: { suite: "sdk-traces" } });
    expect(page.traces.map((summary) => summary.runId)).toEqual([runId]);
    expect((await client.traces.list({ status: "error", metadata: { suite: "sdk-traces" } })).traces).toEqual([]);
    await client.traces.delete(runId);
    // The root is the run's own row, shown as long as the run exists (docs/traces.md).
    expect((await client.traces.get(runId)).spans.map((span) => span.name)).toEqual(["run"]);
    await client.runs.delete(runId);
    await expect(client.runs.get(runId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses to delete a run that has not ended", async () => {
    const { runId } = await client.runs.start({
      systemPrompt: "s",
      prompt: "call get_time {}",
      tools: [{ kind: "local", name: "get_time" }] as never,
    });
    for (let i = 0; i < 200 && (await client.runs.get(runId)).status !== "paused"; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(client.runs.delete(runId, { maxRetries: 0 })).rejects.toBeInstanceOf(ConflictError);
    await client.runs.cancel(runId);
  });
});

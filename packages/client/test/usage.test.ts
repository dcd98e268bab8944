/**
 * `client.usage.get` against a real agentd in-process (issue #11),
 * answered by the built-in mock model.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agentd, BadRequestError } from "../src/index.js";

describe("SDK usage", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentd-sdk-usage-"));
  let server: { close(): Promise<void> } | undefined;
  let client: Agentd;
  let keyId: string;

  beforeAll(async () => {
    const { createServer, createApiKey } = await import("@agentd/server");
    const app = await createServer({ dataDir, env: {} });
    server = app;
    const { url } = await app.listen(0, "127.0.0.1");
    const created = await createApiKey(app.store, { workspace: "default", name: "sdk-usage" });
    keyId = created.id;
    client = new Agentd({ apiKey: created.key, baseUrl: url });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("totals the runs of a window, grouped by key, from Dates or strings", async () => {
    const from = new Date();
    const { runId } = await client.runs.start({ systemPrompt: "Be brief.", modelId: "mock", prompt: "hello there" });
    const run = await client.runs.wait(runId);
    const to = new Date(Date.now() + 1_000);
    const report = await client.usage.get({ from, to, groupBy: "key" });
    expect(report).toMatchObject({ from: from.toISOString(), to: to.toISOString(), groupBy: "key" });
    expect(report.totals).toMatchObject({
      runs: 1,
      inputTokens: run.usage.inputTokens,
      outputTokens: run.usage.outputTokens,
      modelCalls: 1,
    });
    expect(report.groups).toEqual([{ key: keyId, ...report.totals }]);
    // Defaults: the last 30 days, totals only.
    const recent = await client.usage.get();
    expect(recent.groupBy).toBeNull();
    expect(recent.groups).toEqual([]);
    expect(recent.totals.runs).toBe(1);
    await expect(client.usage.get({ from: "2030-02-01", to: "2030-01-01" })).rejects.toBeInstanceOf(BadRequestError);
  });
});

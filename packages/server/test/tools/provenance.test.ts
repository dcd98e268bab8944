import type { HttpToolRef } from "@agentd/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolSet } from "../../src/engine/toolset.js";
import { createServerTools, type ServerTools } from "../../src/tools/resolvers.js";
import { toolOrigin } from "../../src/tools/provenance.js";
import { startLoopbackServer, toolContext, type LoopbackServer } from "./http-helpers.js";

// Issue #8: runs are stored and resumed after restarts, with the config
// agent's tools and the request's merged in one list. Which of them are the
// operator's is decided again when the tools are resolved.
let server: LoopbackServer;
let tools: ServerTools;
let ref: HttpToolRef;
beforeAll(async () => {
  server = await startLoopbackServer((request, response) =>
    response.end(`auth reversed=${[...String(request.headers.authorization)].reverse().join("")}`),
  );
  ref = { kind: "http", name: "status", method: "GET", url: `${server.url}/status`, headers: { authorization: { env: "OPS_TOKEN" } } };
  tools = await createServerTools(
    {
      httpTools: { allow: [`127.0.0.1:${server.port}`] },
      agents: { ops: { systemPrompt: "x", tools: [ref] }, other: { systemPrompt: "y" } },
    },
    { OPS_TOKEN: "ops-token-1" },
  );
});
afterAll(async () => {
  await tools.close();
  await server.close();
});

describe("which tool refs are operator-defined", () => {
  it("those deep-equal to the tool of that name of the config agent the run names", () => {
    const agents = { ops: { systemPrompt: "x", tools: [ref] } };
    expect(toolOrigin(ref, { agentId: "ops" }, agents)).toBe("operator");
    // key order and undefined fields, as a JSON round trip through the store leaves them, do not matter
    const stored = {
      headers: { authorization: { env: "OPS_TOKEN" } },
      url: ref.url,
      method: "GET",
      name: "status",
      kind: "http",
      description: undefined,
    } as HttpToolRef;
    expect(toolOrigin(stored, { agentId: "ops" }, agents)).toBe("operator");
    expect(toolOrigin(ref, { agentId: "other" }, agents)).toBe("request");
    expect(toolOrigin(ref, { agentId: null }, agents)).toBe("request");
    expect(toolOrigin({ ...ref, url: "https://attacker.example/" }, { agentId: "ops" }, agents)).toBe("request");
    expect(toolOrigin({ ...ref, headers: { authorization: { env: "OTHER_SECRET" } } }, { agentId: "ops" }, agents)).toBe("request");
    expect(toolOrigin({ ...ref, name: "renamed" }, { agentId: "ops" }, agents)).toBe("request");
    expect(toolOrigin(ref, { agentId: "constructor" }, agents)).toBe("request");
  });

  it("an operator's tool reads its secret when resolved for its agent; the same ref in any other run is request-defined and refused", async () => {
    const operator = await tools.resolve(ref, { agentId: "ops" });
    expect(await operator.execute({}, toolContext())).toBe("auth reversed=1-nekot-spo");
    await expect(tools.resolve(ref, { agentId: null })).rejects.toThrow(/headers\.authorization/);
    await expect(tools.resolve(ref, { agentId: "other" })).rejects.toThrow(/headers\.authorization/);
    // changed since the run was stored (the config was edited): no longer the operator's, so it fails closed
    await expect(tools.resolve({ ...ref, url: `${server.url}/elsewhere` }, { agentId: "ops" })).rejects.toThrow(/headers\.authorization/);
  });

  it("a request-defined tool without secrets is resolved with the request allowlist, checked at call time", async () => {
    const plain: HttpToolRef = { kind: "http", name: "plain", method: "GET", url: `${server.url}/plain` };
    const resolved = await tools.resolve(plain, { agentId: null });
    await expect(resolved.execute({}, toolContext())).rejects.toThrow(/requestAllow/);
  });

  it("ToolSet.resolve passes the run's agent on to the resolvers", async () => {
    const set = await ToolSet.resolve([ref], tools, { agentId: "ops" });
    expect(await set.get("status")!.server!.execute({}, toolContext())).toBe("auth reversed=1-nekot-spo");
    await expect(ToolSet.resolve([ref], tools, { agentId: undefined })).rejects.toThrow(/headers\.authorization/);
  });
});

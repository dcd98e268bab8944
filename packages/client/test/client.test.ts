import { paths as protocolPaths, headers as protocolHeaders, API_PREFIX as protocolPrefix, LAST_SEQ_QUERY as protocolLastSeq } from "@agentd/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agentd, AgentdError } from "../src/index.js";
import { API_PREFIX, headers, LAST_SEQ_QUERY, paths } from "../src/internal/routes.js";
import { fakeFetch, json } from "./helpers/fake-server.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("Agentd options", () => {
  it("reads AGENTD_API_KEY, AGENTD_URL and AGENTD_WORKSPACE when options are absent", async () => {
    vi.stubEnv("AGENTD_API_KEY", "agd_env");
    vi.stubEnv("AGENTD_URL", "http://example.test:9/");
    vi.stubEnv("AGENTD_WORKSPACE", "acme");
    const fetch = fakeFetch(() => json({ models: [], defaultModelId: null }));
    const client = new Agentd({ fetch });
    await client.models.list();
    expect(fetch.requests[0]?.url.href).toBe("http://example.test:9/api/v1/workspaces/acme/models");
    expect(fetch.requests[0]?.headers.get("authorization")).toBe("Bearer agd_env");
  });

  it("defaults to the local server and the default workspace, and options win over the environment", () => {
    vi.stubEnv("AGENTD_URL", "");
    vi.stubEnv("AGENTD_WORKSPACE", "");
    const client = new Agentd({ apiKey: "k" });
    expect(client.baseUrl).toBe("http://127.0.0.1:7700");
    expect(client.workspace).toBe("default");
    vi.stubEnv("AGENTD_WORKSPACE", "env");
    expect(new Agentd({ apiKey: "k", workspace: "opt" }).workspace).toBe("opt");
  });

  it("refuses to start without an API key and says where it is read from", () => {
    vi.stubEnv("AGENTD_API_KEY", "");
    expect(() => new Agentd()).toThrow(/AGENTD_API_KEY/);
    try {
      new Agentd();
    } catch (error) {
      expect(AgentdError.isInstance(error)).toBe(true);
      expect((error as AgentdError).code).toBe("missing_api_key");
    }
  });
});

describe("routes", () => {
  it("match the protocol's paths, headers and query names", () => {
    const ids = ["run_1", "a/b?c#d", "ünï côdé", "..", "%2F"];
    for (const [name, build] of Object.entries(protocolPaths)) {
      for (const id of ids) {
        expect((paths as Record<string, (value: string) => string>)[name]?.(id), name).toBe((build as (value: string) => string)(id));
      }
    }
    expect(Object.keys(paths).sort()).toEqual(Object.keys(protocolPaths).sort());
    expect(headers).toEqual(protocolHeaders);
    expect(API_PREFIX).toBe(protocolPrefix);
    expect(LAST_SEQ_QUERY).toBe(protocolLastSeq);
  });
});

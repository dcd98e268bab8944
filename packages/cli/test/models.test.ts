import { describe, expect, it } from "vitest";
import { main } from "../src/index.js";
import { captureContext, fakeApi } from "./helpers.js";

const catalog = {
  models: [
    { id: "mock:default", label: "Mock", provider: "mock", vendorModelId: "default", source: "platform_offering", contextWindowTokens: null, pricing: null, mock: true },
    { id: "provider:openai:gpt-4o-mini", label: "GPT-4o mini", provider: "openai", vendorModelId: "gpt-4o-mini", source: "workspace_provider", contextWindowTokens: 128000, pricing: null },
  ],
  defaultModelId: "mock:default",
};

describe("agentd models", () => {
  it("prints a table marking the default and the mock", async () => {
    const io = captureContext({ fetch: fakeApi({ "GET /models": () => Response.json(catalog) }) });
    expect(await main(["models"], io.context)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "ID                           PROVIDER  CONTEXT  LABEL",
        "mock:default                 mock      -        Mock (default, mock)",
        "provider:openai:gpt-4o-mini  openai    128,000  GPT-4o mini",
        "",
      ].join("\n"),
    );
  });

  it("prints the catalog as JSON with --json", async () => {
    const io = captureContext({ fetch: fakeApi({ "GET /models": () => Response.json(catalog) }) });
    expect(await main(["models", "--json"], io.context)).toBe(0);
    expect(JSON.parse(io.stdout())).toEqual(catalog);
  });

  it("prints help and version with exit code 0", async () => {
    const help = captureContext();
    expect(await main(["--help"], help.context)).toBe(0);
    expect(help.stdout()).toContain("Usage: agentd");
    expect(help.stdout()).toContain("AGENTD_API_KEY");
    const version = captureContext();
    expect(await main(["--version"], version.context)).toBe(0);
    expect(version.stdout()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

import { startFakeProvider } from "@agentd/server/testing";
import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/config/load.js";
import type { AgentdConfig } from "../../src/config/types.js";
import { AgentdError } from "../../src/errors.js";
import { createModelRegistry } from "../../src/models/registry.js";
import { ModelError } from "../../src/models/types.js";
import { collect, textOf } from "./helpers.js";

const twoProviders: AgentdConfig = {
  providers: [
    { name: "vllm", type: "openai-compatible", baseUrl: "http://127.0.0.1:9/v1", models: [{ id: "llama3:8b" }, { id: "qwen2.5" }] },
    { name: "router", type: "openai-compatible", baseUrl: "http://127.0.0.1:9/v1", models: [{ id: "qwen2.5", label: "Qwen via router" }] },
  ],
};

function invalidModel(run: () => unknown): AgentdError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentdError);
    expect((error as AgentdError).code).toBe("invalid_model");
    return error as AgentdError;
  }
  throw new Error("expected invalid_model");
}

describe("catalog and defaults", () => {
  test("with nothing configured only the mock exists, and it is the default", () => {
    const registry = createModelRegistry({}, {});
    const catalog = registry.catalog();
    expect(catalog.models.map((model) => model.id)).toEqual(["provider:mock:mock"]);
    expect(catalog.defaultModelId).toBe("provider:mock:mock");
    expect(catalog.models[0]).toMatchObject({ mock: true, source: "platform_offering", pricing: { inputPer1MUsd: 0, outputPer1MUsd: 0 } });
    expect(catalog.models[0]!.label.toLowerCase()).toContain("mock");
    expect(registry.resolve(undefined).info.mock).toBe(true);
  });

  test("OPENAI_API_KEY adds openai with priced built-in models; it is the default over anthropic", () => {
    const catalog = createModelRegistry({}, { OPENAI_API_KEY: "sk-1", ANTHROPIC_API_KEY: "sk-2" }).catalog();
    expect(catalog.defaultModelId).toBe("provider:openai:gpt-4o-mini");
    const ids = catalog.models.map((model) => model.id);
    expect(ids).toEqual(expect.arrayContaining(["provider:openai:gpt-4.1", "provider:anthropic:claude-sonnet-4-5", "provider:mock:mock"]));
    const mini = catalog.models.find((model) => model.id === "provider:openai:gpt-4o-mini")!;
    expect(mini).toMatchObject({ contextWindowTokens: 128_000, pricing: { inputPer1MUsd: 0.15, outputPer1MUsd: 0.6 } });
  });

  test("ANTHROPIC_API_KEY alone makes claude-sonnet-4-5 the default", () => {
    expect(createModelRegistry({}, { ANTHROPIC_API_KEY: "sk" }).catalog().defaultModelId).toBe("provider:anthropic:claude-sonnet-4-5");
  });

  test("config providers come first and suppress the env provider of their type", () => {
    const config: AgentdConfig = { providers: [{ name: "work", type: "openai", models: [{ id: "gpt-4.1-mini" }] }] };
    const catalog = createModelRegistry(config, { OPENAI_API_KEY: "sk" }).catalog();
    expect(catalog.defaultModelId).toBe("provider:work:gpt-4.1-mini");
    expect(catalog.models.some((model) => model.provider === "openai")).toBe(false);
    // A listed model without details still gets the known window and prices.
    expect(catalog.models[0]).toMatchObject({ contextWindowTokens: 1_047_576, pricing: { inputPer1MUsd: 0.4 } });
  });

  test("defaultModelId in the config wins, and a bad one fails at startup", () => {
    const registry = createModelRegistry({ ...twoProviders, defaultModelId: "llama3:8b" }, {});
    expect(registry.catalog().defaultModelId).toBe("provider:vllm:llama3:8b");
    expect(registry.resolve(undefined).id).toBe("provider:vllm:llama3:8b");
    expect(() => createModelRegistry({ defaultModelId: "gpt-7" }, {})).toThrow(ConfigError);
  });

  test("config mistakes are reported at startup", () => {
    expect(() => createModelRegistry({ providers: [{ name: "x", type: "openai-compatible" }] }, {})).toThrow(/needs a baseUrl/);
    expect(() =>
      createModelRegistry(
        {
          providers: [
            { name: "a", type: "mock" },
            { name: "a", type: "mock" },
          ],
        },
        {},
      ),
    ).toThrow(/two providers/);
    expect(() => createModelRegistry({ providers: [{ name: "mock", type: "openai" }] }, {})).toThrow(/reserved/);
    expect(() =>
      createModelRegistry({ providers: [{ name: "x", type: "openai-compatible", baseUrl: "http://h/v1", client: "ai-sdk" }] }, {}),
    ).toThrow(/client "ai-sdk" is for openai and anthropic providers only/);
    expect(() =>
      createModelRegistry({ providers: [{ name: "x", type: "anthropic", apiKey: "k", models: [{ id: "c", api: "responses" }] }] }, {}),
    ).toThrow(/models 'c': api "responses" is for openai providers only/);
  });
});

describe("resolve(modelId)", () => {
  const registry = createModelRegistry(twoProviders, { OPENAI_API_KEY: "sk" });

  test("provider:<name> is that provider's default model", () => {
    expect(registry.resolve("provider:vllm").id).toBe("provider:vllm:llama3:8b");
    expect(registry.resolve("provider:openai").id).toBe("provider:openai:gpt-4o-mini");
  });

  test("provider:<name>:<vendor> keeps colons in the vendor id", () => {
    const model = registry.resolve("provider:vllm:llama3:8b");
    expect(model.info).toMatchObject({ provider: "vllm", vendorModelId: "llama3:8b" });
  });

  test("a pinned vendor model outside the list is allowed, labelled, and unpriced", () => {
    const model = registry.resolve("provider:vllm:mistral-7b");
    expect(model.info).toMatchObject({ id: "provider:vllm:mistral-7b", vendorModelId: "mistral-7b", pricing: null });
    expect(model.info.label).toContain("not in the catalog");
    expect(registry.catalog().models.some((info) => info.id === model.id)).toBe(false);
  });

  test("a bare vendor id resolves when exactly one provider lists it", () => {
    expect(registry.resolve("gpt-4.1").id).toBe("provider:openai:gpt-4.1");
    expect(registry.resolve("llama3:8b").id).toBe("provider:vllm:llama3:8b");
    expect(registry.resolve("mock").info.mock).toBe(true);
  });

  test("a bare vendor id two providers list is ambiguous, with both as candidates", () => {
    const error = invalidModel(() => registry.resolve("qwen2.5"));
    expect(error.message).toMatch(/^Model 'qwen2.5' is ambiguous/);
    expect(error.candidates).toEqual(["provider:vllm:qwen2.5", "provider:router:qwen2.5"]);
  });

  test("unknown ids are invalid_model with the runnable ids as candidates", () => {
    for (const id of ["gpt-7", "provider:nobody", "provider:nobody:gpt-4o", "provider:mock:gpt-4o"]) {
      const error = invalidModel(() => registry.resolve(id));
      expect(error.message).toContain(`Model '${id}' is not available`);
      expect(error.candidates).toContain("provider:openai:gpt-4o-mini");
      expect(error.status).toBe(400);
    }
  });

  test("resolved models are cached", () => {
    expect(registry.resolve("provider:openai:gpt-4o")).toBe(registry.resolve("gpt-4o"));
    expect(registry.resolve("provider:vllm:other")).toBe(registry.resolve("provider:vllm:other"));
  });
});

describe("keys and base URLs from the environment", () => {
  test("OPENAI_API_KEY + OPENAI_BASE_URL alone give a working openai provider", async () => {
    const fake = await startFakeProvider({ tokens: 2 });
    try {
      const registry = createModelRegistry({}, { OPENAI_API_KEY: "sk-env", OPENAI_BASE_URL: fake.openaiBaseUrl });
      expect(textOf(await collect(registry.resolve(undefined)))).toBe("tok0 tok1");
      expect(fake.requests[0]!.headers.authorization).toBe("Bearer sk-env");
    } finally {
      await fake.close();
    }
  });

  test("apiKeyEnv names the variable; when it is unset the call fails saying so, without a request", async () => {
    const fake = await startFakeProvider();
    try {
      const config: AgentdConfig = { providers: [{ name: "an", type: "anthropic", apiKeyEnv: "MY_KEY", baseUrl: fake.anthropicBaseUrl }] };
      await collect(createModelRegistry(config, { MY_KEY: "sk-mine" }).resolve(undefined));
      expect(fake.requests[0]!.headers["x-api-key"]).toBe("sk-mine");

      const error = await collect(createModelRegistry(config, {}).resolve(undefined)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).message).toBe("an: no API key: environment variable MY_KEY is not set");
      expect(fake.requestCount).toBe(1);
    } finally {
      await fake.close();
    }
  });
});

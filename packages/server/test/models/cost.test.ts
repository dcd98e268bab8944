import type { ModelInfo } from "@agentd/protocol";
import { expect, test } from "vitest";
import { costUsd } from "../../src/models/cost.js";
import { createModelRegistry } from "../../src/models/registry.js";

const info = (pricing: ModelInfo["pricing"]): ModelInfo => ({
  id: "provider:x:y", label: "y", provider: "x", vendorModelId: "y", source: "platform_offering", contextWindowTokens: null, pricing,
});

test("cost is tokens times the per-million prices", () => {
  const gpt4o = createModelRegistry({}, { OPENAI_API_KEY: "sk" }).resolve("gpt-4o").info;
  expect(costUsd(gpt4o, { inputTokens: 1000, outputTokens: 500 })).toBe(0.0075);
  expect(costUsd(gpt4o, { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(12.5);
});

test("unknown prices give null, not a wrong number", () => {
  expect(costUsd(info(null), { inputTokens: 10, outputTokens: 10 })).toBeNull();
  const partial = info({ inputPer1MUsd: 1, outputPer1MUsd: null, cacheReadPer1MUsd: null });
  expect(costUsd(partial, { inputTokens: 10, outputTokens: 10 })).toBeNull();
  expect(costUsd(partial, { inputTokens: 1_000_000, outputTokens: 0 })).toBe(1);
});

test("the mock costs nothing", () => {
  expect(costUsd(createModelRegistry({}, {}).resolve("mock").info, { inputTokens: 99, outputTokens: 99 })).toBe(0);
});

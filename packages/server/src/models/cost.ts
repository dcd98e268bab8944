import type { ModelInfo } from "@agentd/protocol";
import type { ModelUsage } from "./types.js";

/**
 * USD cost of one call from the model's list prices, or null when the price of
 * a kind of token that was used is unknown (a wrong number is worse than none).
 * Input read from the prompt cache is priced at the cache-read price (at the
 * input price when the model has none: an upper bound); input written to the
 * cache (Anthropic) at the cache-write price, and null without one.
 */
export function costUsd(info: ModelInfo, usage: ModelUsage): number | null {
  const pricing = info.pricing;
  if (pricing === null) return null;
  const cached = usage.cachedInputTokens ?? 0;
  const written = usage.cacheWriteInputTokens ?? 0;
  const plain = Math.max(0, usage.inputTokens - cached - written);
  let cost = 0;
  if (plain + cached > 0) {
    if (pricing.inputPer1MUsd === null) return null;
    cost += plain * pricing.inputPer1MUsd + cached * (pricing.cacheReadPer1MUsd ?? pricing.inputPer1MUsd);
  }
  if (written > 0) {
    if (pricing.cacheWritePer1MUsd === null || pricing.cacheWritePer1MUsd === undefined) return null;
    cost += written * pricing.cacheWritePer1MUsd;
  }
  if (usage.outputTokens > 0) {
    if (pricing.outputPer1MUsd === null) return null;
    cost += usage.outputTokens * pricing.outputPer1MUsd;
  }
  // Rounded to a nano-dollar so sums of many steps don't show float noise.
  return Math.round((cost / 1_000_000) * 1e9) / 1e9;
}

import type { ModelInfo } from "@agentd/protocol";
import type { ModelUsage } from "./types.js";

/**
 * USD cost of one call from the model's list prices, or null when the price of
 * a kind of token that was used is unknown (a wrong number is worse than none).
 * Cached-input discounts are not applied: providers do not report cache reads
 * uniformly, so this is an upper bound for prompts that hit a cache.
 */
export function costUsd(info: ModelInfo, usage: ModelUsage): number | null {
  const pricing = info.pricing;
  if (pricing === null) return null;
  let cost = 0;
  if (usage.inputTokens > 0) {
    if (pricing.inputPer1MUsd === null) return null;
    cost += usage.inputTokens * pricing.inputPer1MUsd;
  }
  if (usage.outputTokens > 0) {
    if (pricing.outputPer1MUsd === null) return null;
    cost += usage.outputTokens * pricing.outputPer1MUsd;
  }
  // Rounded to a nano-dollar so sums of many steps don't show float noise.
  return Math.round((cost / 1_000_000) * 1e9) / 1e9;
}

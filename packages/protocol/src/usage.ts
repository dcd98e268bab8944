import { z } from "zod";

/** Token counts as reported by the provider; cost in USD when the model has pricing. */
export const Usage = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  totalTokens: z.number().int(),
  /** Of inputTokens, those read from the provider's prompt cache (billed at the cache price). */
  cachedInputTokens: z.number().int().optional(),
  costUsd: z.number().nullable(),
});
export type Usage = z.infer<typeof Usage>;

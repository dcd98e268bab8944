import { z } from "zod";

/** Token counts as reported by the provider; cost in USD when the model has pricing. */
export const Usage = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  totalTokens: z.number().int(),
  /** Of inputTokens, those read from the provider's prompt cache (billed at the cache price). */
  cachedInputTokens: z.number().int().optional(),
  /** Model calls that answered (issue #11); absent on runs stored before it. */
  modelCalls: z.number().int().optional(),
  /** Tool calls the model asked for. */
  toolCalls: z.number().int().optional(),
  /** From the model catalog's prices; null when a price of a step is unknown (never a guess). */
  costUsd: z.number().nullable(),
});
export type Usage = z.infer<typeof Usage>;

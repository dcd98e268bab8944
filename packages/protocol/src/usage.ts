import { z } from "zod";

/** Token counts as reported by the provider; cost in USD when the model has pricing. */
export const Usage = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.number().nullable(),
});
export type Usage = z.infer<typeof Usage>;

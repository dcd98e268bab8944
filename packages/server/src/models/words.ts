import type { ModelStepRequest } from "./types.js";

/**
 * Splits text into word-sized chunks whose concatenation is exactly `text`, so
 * deterministic models can stream "tokens" a client can reassemble.
 */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text.length > 0 ? [text] : []);
}

export function countWords(text: string): number {
  let count = 0;
  for (const word of text.split(/\s+/)) if (word.length > 0) count += 1;
  return count;
}

/** A deterministic stand-in for prompt tokens: the words the model is shown. */
export function countRequestWords(request: Pick<ModelStepRequest, "system" | "messages">): number {
  let total = countWords(request.system);
  for (const message of request.messages) {
    if (message.role === "tool") total += countWords(message.error ?? message.result ?? "");
    else total += countWords(message.content);
    if (message.role === "assistant") {
      for (const call of message.toolCalls ?? []) total += countWords(`${call.name} ${JSON.stringify(call.args)}`);
    }
  }
  return total;
}

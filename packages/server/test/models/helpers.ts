import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { LanguageModel, ModelStepRequest, ModelStreamPart } from "../../src/models/types.js";

export function stepRequest(overrides: Partial<ModelStepRequest> = {}): ModelStepRequest {
  return {
    system: "",
    messages: [{ role: "user", content: "hello" }],
    tools: [],
    params: {},
    signal: new AbortController().signal,
    ...overrides,
  };
}

export async function collect(model: LanguageModel, request: ModelStepRequest = stepRequest()): Promise<ModelStreamPart[]> {
  const parts: ModelStreamPart[] = [];
  for await (const part of model.stream(request)) parts.push(part);
  return parts;
}

export const textOf = (parts: ModelStreamPart[]): string =>
  parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("");

export const finishOf = (parts: ModelStreamPart[]) => {
  const finishes = parts.filter((part) => part.type === "finish");
  if (finishes.length !== 1 || parts[parts.length - 1] !== finishes[0]) throw new Error(`expected exactly one trailing finish, got ${JSON.stringify(parts)}`);
  return finishes[0]!;
};

/** A loopback URL nothing listens on. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

/** `bytes` cut at `cuts` (any order, duplicates and out-of-range positions allowed): a stream as the network may deliver it. */
export function cutAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => Math.min(cut, bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

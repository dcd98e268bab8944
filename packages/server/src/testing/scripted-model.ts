import type { ModelInfo } from "@agentd/protocol";
import { AgentdError } from "../errors.js";
import { countRequestWords, countWords, splitWords } from "../models/words.js";
import { ModelError, type LanguageModel, type ModelRegistry, type ModelStepRequest, type ModelStreamPart } from "../models/types.js";

/** What one model call answers; shared by scriptedModel and the fake provider server. */
export interface ScriptedReply {
  /** Streamed as one delta per word. */
  text?: string;
  /** Streamed before the text as reasoning deltas. */
  reasoning?: string;
  toolCalls?: Array<{ name: string; args?: Record<string, unknown>; id?: string }>;
  /** Fail the call as the provider would, with this HTTP status and message (and headers, e.g. `retry-after`). */
  error?: { status: number; message: string; headers?: Record<string, string> };
  /** Never answer; the call ends only when the caller aborts (or its first-byte timeout fires). */
  hang?: boolean;
  /** Fake provider only: close the connection as soon as the request is read, before any response. */
  resetBeforeHead?: boolean;
  /** Fake provider only: send the head and this many stream frames, then nothing more (a stall mid-stream). */
  stallAfterFrames?: number;
  /**
   * Fake provider only: answer exactly this (a recorded wire fixture), instead
   * of a reply built from the other fields. `frames` are written one by one
   * (with `chunkDelayMs` between them); their concatenation is the body.
   */
  raw?: { status?: number; headers?: Record<string, string>; frames: string[] };
  /** Pause between streamed chunks, in milliseconds. @default 0 */
  chunkDelayMs?: number;
  /** Stream half of the text, then lose the connection. */
  dropMidStream?: boolean;
  /** Stream half of the text, then an error event with this message (e.g. "Overloaded"). */
  streamError?: string;
  /** Reported usage; by default tokens are counted as words. */
  usage?: { inputTokens: number; outputTokens: number };
}

/** A value for every call, a list (one per call), or a function of the call. */
export type ReplyScript =
  | ScriptedReply
  | ScriptedReply[]
  | ((request: ModelStepRequest, callIndex: number) => ScriptedReply | Promise<ScriptedReply>);

export interface ScriptedModel extends LanguageModel {
  /** Every request received, in order (messages copied at call time). */
  readonly calls: ModelStepRequest[];
}

/**
 * A LanguageModel for engine tests without HTTP. A list that runs out fails
 * the call with a ModelError, so a test that makes more calls than it
 * scripted says so instead of hanging or passing by accident.
 */
export function scriptedModel(script: ReplyScript, options: { vendorModelId?: string } = {}): ScriptedModel {
  const vendorModelId = options.vendorModelId ?? "scripted";
  const info: ModelInfo = {
    id: `provider:scripted:${vendorModelId}`,
    label: "Scripted test model (not an LLM)",
    provider: "scripted",
    vendorModelId,
    source: "platform_offering",
    contextWindowTokens: null,
    pricing: { inputPer1MUsd: 0, outputPer1MUsd: 0, cacheReadPer1MUsd: 0 },
    mock: true,
  };
  const calls: ModelStepRequest[] = [];
  let toolCallCount = 0;
  async function* stream(request: ModelStepRequest): AsyncGenerator<ModelStreamPart> {
    const index = calls.length;
    calls.push({ ...request, messages: [...request.messages], tools: [...request.tools] });
    let reply: ScriptedReply | undefined;
    if (typeof script === "function") reply = await script(request, index);
    else if (Array.isArray(script)) reply = script[index];
    else reply = script;
    if (reply === undefined) throw new ModelError("scripted", `scripted: no reply scripted for call #${index + 1}`);

    if (reply.hang === true && !request.signal.aborted) {
      await new Promise((resolve) => request.signal.addEventListener("abort", resolve, { once: true }));
    }
    request.signal.throwIfAborted();
    if (reply.error !== undefined) {
      throw new ModelError("scripted", `scripted: HTTP ${reply.error.status}: ${reply.error.message}`, { status: reply.error.status });
    }
    const words = splitWords(reply.text ?? "");
    const broken = reply.dropMidStream === true || reply.streamError !== undefined;
    const parts: ModelStreamPart[] = [
      ...splitWords(reply.reasoning ?? "").map((text) => ({ type: "reasoning-delta" as const, text })),
      ...(broken ? words.slice(0, Math.ceil(words.length / 2)) : words).map((text) => ({ type: "text-delta" as const, text })),
    ];
    for (const part of parts) {
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs, request.signal);
      request.signal.throwIfAborted();
      yield part;
    }
    if (reply.streamError !== undefined) throw new ModelError("scripted", `scripted: stream error: ${reply.streamError}`);
    if (reply.dropMidStream === true) throw new ModelError("scripted", "scripted: connection lost mid-stream");
    const toolCalls = reply.toolCalls ?? [];
    for (const call of toolCalls) {
      toolCallCount += 1;
      yield { type: "tool-call", toolUseId: call.id ?? `call_${toolCallCount}`, name: call.name, args: call.args ?? {} };
    }
    const outputTokens = words.length + toolCalls.reduce((sum, call) => sum + countWords(`${call.name} ${JSON.stringify(call.args ?? {})}`), 0);
    const usage = reply.usage ?? { inputTokens: countRequestWords(request), outputTokens };
    yield { type: "finish", usage, finishReason: toolCalls.length > 0 ? "tool-calls" : "stop" };
  }
  return { id: info.id, info, calls, stream };
}

/**
 * A ModelRegistry over the given models, for tests: no id resolves to the
 * first; a catalog id or a vendor model id picks one; anything else is
 * `invalid_model` like the real registry.
 */
export function registryOf(...models: LanguageModel[]): ModelRegistry {
  return {
    catalog: () => ({ models: models.map((model) => model.info), defaultModelId: models[0]?.id ?? null }),
    resolve(modelId) {
      const found = modelId === undefined ? models[0] : models.find((model) => model.id === modelId || model.info.vendorModelId === modelId);
      if (found !== undefined) return found;
      const candidates = models.map((model) => model.id);
      throw new AgentdError("invalid_model", `Model '${modelId}' is not available; pick one of: ${candidates.join(", ")}`, { candidates });
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

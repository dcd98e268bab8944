import { expect } from "vitest";
import { AgentdError } from "../../../src/errors.js";
import type { RunRecord, SessionRecord, StoredEvent } from "../../../src/store/types.js";

/*
 * Record builders for the store contract. Ids are unique per call so one
 * store can serve many cases (and many property-test iterations).
 */

let counter = 0;
export const uniqueId = (prefix: string): string => `${prefix}_${(++counter).toString(36)}_${Date.now().toString(36)}`;

/** Increasing timestamps, so "oldest first" has a single right answer. */
let clock = Date.parse("2025-01-01T00:00:00.000Z");
export const nextTimestamp = (): string => new Date((clock += 1000)).toISOString();

export function makeRun(workspaceId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: uniqueId("run"),
    workspaceId,
    sessionId: null,
    agentId: null,
    agentRevision: null,
    agentTag: null,
    keyId: null,
    modelId: "mock:echo",
    status: "queued",
    agentSpec: {
      systemPrompt: "You are terse.",
      tools: [{ kind: "local", name: "clock", parameters: { type: "object", properties: {} } }],
      modelParams: { temperature: 0.2 },
    },
    metadata: { user: "ada", "trace.id": "t-1" },
    checkpoint: {
      messages: [{ role: "user", content: "hi" }],
      toolTurns: 0,
      pending: [],
      pendingDeadline: null,
      inputStart: 0,
      attempt: 1,
    },
    text: null,
    subtype: null,
    error: null,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: null },
    lastSeq: 0,
    createdAt: nextTimestamp(),
    startedAt: null,
    endedAt: null,
    cancelRequested: null,
    ...overrides,
  };
}

export function makeSession(workspaceId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = nextTimestamp();
  return {
    id: uniqueId("ses"),
    workspaceId,
    name: "support chat",
    status: "active",
    agentSpec: { systemPrompt: "You help." },
    agentRevision: null,
    agentTag: null,
    metadata: { team: "blue" },
    messages: [],
    activeRunId: null,
    createdAt: now,
    lastUsedAt: now,
    endedAt: null,
    ...overrides,
  };
}

export function makeEvent(runId: string, seq: number, type = "assistant_delta"): StoredEvent {
  return { runId, seq, type, data: JSON.stringify({ type, seq, runId, text: `t${seq} ✓` }) };
}

/** Events `from..to` inclusive. */
export const makeEvents = (runId: string, from: number, to: number): StoredEvent[] =>
  Array.from({ length: to - from + 1 }, (_, index) => makeEvent(runId, from + index));

/** An instant for deadlines (epoch ms), fixed so a case never waits for one. */
export const WAKE_BASE = 1_900_000_000_000;

/**
 * Runs for the wake-time migrations: paused with both deadlines (wakes at
 * WAKE_BASE + 11, rounded up), with only pendingDeadline (+ 30), with none,
 * and a running one (never due).
 */
export function wakeFixtures(workspaceId: string): Record<"early" | "late" | "none" | "running", RunRecord> {
  const paused = (deadlines: Partial<RunRecord["checkpoint"]>, status: RunRecord["status"] = "paused") => {
    const run = makeRun(workspaceId, { status });
    return { ...run, checkpoint: { ...run.checkpoint, ...deadlines } };
  };
  return {
    early: paused({ pendingDeadline: WAKE_BASE + 20, approvalDeadline: WAKE_BASE + 10.5 }),
    late: paused({ pendingDeadline: WAKE_BASE + 30 }),
    none: paused({ pendingDeadline: null, approvalDeadline: null }),
    running: paused({ pendingDeadline: WAKE_BASE }, "running"),
  };
}

/** Asserts a promise rejects with an AgentdError of this code (not just any error). */
export async function rejectsWith(promise: Promise<unknown>, code: AgentdError["code"]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected AgentdError ${code}`).toBeInstanceOf(AgentdError);
  expect((error as AgentdError).code).toBe(code);
}

import { z } from "zod";
import { AgentSpec, AgentSpecFields, Dependencies } from "./agent.js";
import { AgentNamingFields, checkAgentNaming } from "./agents.js";
import { ChatMessage } from "./messages.js";
import { Metadata } from "./metadata.js";
import { ResultSubtype } from "./events.js";
import { ToolCall } from "./tools.js";
import { Usage } from "./usage.js";

export const RUN_STATUSES = ["queued", "running", "paused", "completed", "failed", "cancelled"] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(["completed", "failed", "cancelled"]);

/** `POST /agent-runs`: an agent spec plus `prompt` or `messages` (not both). */
export const CreateRunRequest = z
  .strictObject({
    ...AgentSpecFields,
    ...AgentNamingFields,
    prompt: z.string().max(1_000_000).optional(),
    messages: z.array(ChatMessage).min(1).max(10_000).optional(),
    dependencies: Dependencies.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.prompt !== undefined && body.messages !== undefined) {
      ctx.addIssue({ code: "custom", path: ["messages"], message: "send either prompt or messages, not both" });
    }
    if (body.prompt === undefined && body.messages === undefined) {
      ctx.addIssue({ code: "custom", path: ["prompt"], message: "prompt or messages is required" });
    }
    checkAgentNaming(body, ctx);
  });
export type CreateRunRequest = z.infer<typeof CreateRunRequest>;

export const CreateRunResponse = z.object({
  runId: z.string(),
  streamUrl: z.string(),
  sessionId: z.string().optional(),
});
export type CreateRunResponse = z.infer<typeof CreateRunResponse>;

/** `GET /agent-runs/{runId}`: the run's state without subscribing to events. */
export const RunSnapshot = z.object({
  id: z.string(),
  runId: z.string(),
  status: RunStatus,
  agentId: z.string().nullable(),
  /** The registry revision the run executes (issue #11); null for an inline or config agent. */
  agentRevision: z.number().int().nullable(),
  /** The tag the run was named by; null when named otherwise. */
  agentTag: z.string().nullable(),
  sessionId: z.string().nullable(),
  modelId: z.string(),
  agentSpec: AgentSpec,
  metadata: Metadata,
  /** Final answer text when completed. */
  text: z.string().nullable(),
  /** Terminal subtype (`success`, `error_*`) or null while running. */
  subtype: ResultSubtype.nullable(),
  error: z.string().nullable(),
  usage: Usage,
  /** The validated object, when the agent has an `outputSchema` and the run completed. */
  output: z.unknown().optional(),
  /** Local tool calls waiting for a POSTed result. */
  pendingToolCalls: z.array(ToolCall),
  /** Tool calls waiting for a human's decision (POST /continue). */
  pendingApprovals: z.array(ToolCall),
  /** The highest `seq` in the run's event log. */
  lastSeq: z.number().int(),
  streamUrl: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type RunSnapshot = z.infer<typeof RunSnapshot>;

/** `POST /agent-runs/{runId}/tool-results` (seed 004 §8): `result` or `error`. */
export const ToolResultRequest = z
  .strictObject({
    toolUseId: z.string().min(1).max(200),
    result: z.string().max(10_000_000).optional(),
    error: z.string().max(100_000).optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.result === undefined) === (body.error === undefined)) {
      ctx.addIssue({ code: "custom", path: ["result"], message: "send exactly one of result (a string) or error" });
    }
  });
export type ToolResultRequest = z.infer<typeof ToolResultRequest>;

export const OkResponse = z.object({ ok: z.literal(true) });
export type OkResponse = z.infer<typeof OkResponse>;

export const CancelRunRequest = z.strictObject({ reason: z.string().max(1000).optional() });
export type CancelRunRequest = z.infer<typeof CancelRunRequest>;

/** One decision on a call that waits for approval. */
export const ApprovalDecision = z.strictObject({
  toolUseId: z.string().min(1).max(200),
  approved: z.boolean(),
  /** Shown to the model with a rejection. */
  reason: z.string().max(4000).optional(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/** `POST /agent-runs/{runId}/continue`: decisions on pending approvals. */
export const ContinueRunRequest = z.strictObject({
  approvals: z.array(ApprovalDecision).min(1).max(128),
});
export type ContinueRunRequest = z.infer<typeof ContinueRunRequest>;

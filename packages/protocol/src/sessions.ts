import { z } from "zod";
import { AgentSpec, AgentSpecFields, Dependencies, ModelParams } from "./agent.js";
import { AgentNamingFields, checkAgentNaming } from "./agents.js";
import { ChatMessage } from "./messages.js";
import { Metadata } from "./metadata.js";
import { ToolRef } from "./tools.js";

/** `POST /agent-sessions`: the agent spec, no prompt (seed 004 §6). */
export const CreateSessionRequest = z.strictObject({ ...AgentSpecFields, ...AgentNamingFields }).superRefine(checkAgentNaming);
export type CreateSessionRequest = z.infer<typeof CreateSessionRequest>;

export const CreateSessionResponse = z.object({
  sessionId: z.string(),
  name: z.string(),
  createdAt: z.string(),
});
export type CreateSessionResponse = z.infer<typeof CreateSessionResponse>;

export const SessionStatus = z.enum(["active", "ended"]);
export type SessionStatus = z.infer<typeof SessionStatus>;

export const SessionInfo = z.object({
  id: z.string(),
  name: z.string(),
  status: SessionStatus,
  createdAt: z.string(),
  lastUsedAt: z.string(),
  endedAt: z.string().nullable(),
  agentSpec: AgentSpec,
  /** The registry revision the session's runs execute (issue #11); null for an inline or config agent. */
  agentRevision: z.number().int().nullable(),
  agentTag: z.string().nullable(),
  messages: z.array(ChatMessage),
  metadata: Metadata,
  /** The run in progress, if any. */
  activeRunId: z.string().nullable(),
  /** Runs waiting for their turn (messages sent with `onBusy: "enqueue"`), oldest first. */
  queuedRunIds: z.array(z.string()),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** `POST /agent-sessions/{id}/messages`. */
export const SessionMessageRequest = z.strictObject({
  prompt: z.string().min(1, "prompt must not be empty").max(1_000_000),
  /** Optional refresh of the session's tool definitions (seed 004 §6). */
  tools: z.array(ToolRef).max(128).optional(),
  /** Merged over the session's metadata for this run (run keys win). */
  metadata: Metadata.optional(),
  modelParams: ModelParams.optional(),
  dependencies: Dependencies.optional(),
  /** When the session has a run in progress: `reject` (409 session_busy) or `enqueue` (run after it). @default "reject" */
  onBusy: z.enum(["reject", "enqueue"]).optional(),
});
export type SessionMessageRequest = z.infer<typeof SessionMessageRequest>;

import type { RunCheckpoint, RunPatch, SessionPatch } from "./types.js";

/** How a patchable field is stored: its column, and whether it is JSON or free text (NUL replaced). */
export interface Column {
  name: string;
  json: boolean;
  /** Free text that may carry NUL, which PostgreSQL cannot store (both stores replace it the same way). */
  text?: boolean;
  /** Columns computed from the field's value, written with it by the store, so no caller can forget them. */
  derived?: Array<{ name: string; value: (field: never) => unknown }>;
}

/**
 * `runs.wake_at`: when a paused run's earliest deadline falls, epoch ms
 * rounded up; null when the checkpoint has none. Store.duePausedRuns reads it.
 */
export function wakeAt(checkpoint: RunCheckpoint): number | null {
  const deadlines = [checkpoint.pendingDeadline, checkpoint.approvalDeadline].filter(
    (deadline): deadline is number => typeof deadline === "number" && Number.isFinite(deadline),
  );
  return deadlines.length === 0 ? null : Math.ceil(Math.min(...deadlines));
}

/** The columns a field writes: its own, then those derived from it (values are bound in this order). */
export const columnNames = (column: Column): string[] => [column.name, ...(column.derived ?? []).map((derived) => derived.name)];

const column = (name: string, json = false): Column => ({ name, json });
const freeText = (name: string): Column => ({ name, json: false, text: true });

/*
 * The allow-lists of patchable fields, shared by every store. Column names in
 * generated SQL come only from here, never from the patch object, so a stray
 * key cannot inject SQL.
 */
export const RUN_COLUMNS: Record<keyof RunPatch, Column> = {
  status: column("status"),
  checkpoint: { ...column("checkpoint", true), derived: [{ name: "wake_at", value: wakeAt }] },
  text: freeText("text"),
  subtype: column("subtype"),
  error: freeText("error"),
  usage: column("usage", true),
  lastSeq: column("last_seq"),
  startedAt: column("started_at"),
  endedAt: column("ended_at"),
  modelId: column("model_id"),
};

export const SESSION_COLUMNS: Record<keyof SessionPatch, Column> = {
  status: column("status"),
  agentSpec: column("agent_spec", true),
  messages: column("messages", true),
  activeRunId: column("active_run_id"),
  lastUsedAt: column("last_used_at"),
  endedAt: column("ended_at"),
};

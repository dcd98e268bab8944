import type { RunStatus } from "@agentd/protocol";
import type { EventBus } from "../bus/types.js";
import type { EventLog } from "../events/log.js";
import type { Logger } from "../logger.js";
import type { EngineObserver } from "../metrics/metrics.js";
import type { ModelRegistry } from "../models/types.js";
import type { RunQueue } from "../queue/types.js";
import type { RunPatch, RunRecord, Store } from "../store/types.js";
import type { ActiveRun } from "./active-run.js";
import type { Emit } from "./emit.js";
import type { ClusterOptions, LeaseKeeper } from "./leases.js";
import type { StepHooks } from "./step.js";
import type { TurnHooks } from "./tool-calls.js";
import type { ToolResolvers } from "./toolset.js";
import { closeWait } from "./trace.js";

export interface EngineOptions {
  store: Store;
  log: EventLog;
  queue: RunQueue;
  models: ModelRegistry;
  /** Told of every model call, retry and fallback, and of runs starting, ending and taken over (the server's Metrics). */
  observer?: EngineObserver;
  tools: ToolResolvers;
  logger: Logger;
  /** Told of every run that ends (its id queued, nothing awaited): the OpenTelemetry export, when it is on (traces/otel.ts). */
  traceExport?: { ended(workspaceId: string, runId: string): void };
  /** How long a run waits for a local tool result, in milliseconds. */
  localToolTimeoutMs: number;
  /** How long a server tool call may take, in milliseconds. */
  serverToolTimeoutMs: number;
  /** Executions of one run that may die mid-run before the run is ended (`error_max_attempts`). */
  maxRunAttempts: number;
  /** A session's run ended and freed it: its next queued run may start. */
  sessionReleased(workspaceId: string, sessionId: string): Promise<void>;
  /**
   * Several workers share the store (issue #4): runs execute under leases,
   * new and orphaned runs go through the shared queue, cancels reach other
   * workers through the bus. Absent: one process, everything local.
   */
  cluster?: ClusterOptions & { bus: EventBus };
}

/**
 * What the engine's rooms share (engine.ts builds it once; each room is a
 * file of functions over it): the runs this process holds, where their
 * writes go, whether it is shutting down, and the two verbs a room may need
 * from another that sits above it: go on with a run (`execute`, the loop)
 * and cancel one. Those two are late-bound so the rooms import each other in
 * one direction only, without cycles: endings.ts and leave.ts at the bottom,
 * then waiting.ts, resume.ts, loop.ts, input.ts; engine.ts on top.
 */
export interface EngineContext {
  readonly options: EngineOptions;
  /** The runs this process holds (executing, queued here, or paused here), by id. */
  readonly runs: Map<string, ActiveRun>;
  /** The loops executing now (shutdown waits for them). */
  readonly loops: Set<Promise<void>>;
  /** Claims in progress, one per run (resume.ts). */
  readonly adopting: Map<string, Promise<ActiveRun | undefined>>;
  /** The leases of this worker; undefined in a single process. */
  readonly keeper: LeaseKeeper | undefined;
  /** Set by close(): loops stop where they are and leave their runs resumable. */
  stopping: boolean;
  /** Set by drain(): no loop starts; loops end at their next step boundary. */
  draining: boolean;
  /** Stamps an event and queues it in the log; nothing once the run is finished or the engine stops. */
  readonly emit: Emit;
  /** What a model step needs (built once: nothing is allocated per step). */
  readonly stepHooks: StepHooks;
  /** What the tool calls of a turn need. */
  readonly turnHooks: TurnHooks;
  /** Runs (or wakes) the loop of a run (loop.ts). */
  execute(runId: string): Promise<void>;
  /** Cancels a run (input.ts). */
  cancel(record: RunRecord, reason: string | undefined): Promise<void>;
}

/** A status change, queued with what goes with it for the run's next commit. */
export function setStatus(ctx: EngineContext, run: ActiveRun, status: RunStatus, extra: RunPatch = {}): void {
  // Leaving a pause closes its wait span (engine/trace.ts).
  if (status !== "paused" && run.record.checkpoint.wait !== undefined) closeWait(ctx.options.log, run);
  run.record.status = status;
  ctx.options.log.patchRun(run.id, { status, ...extra });
}

export const TERMINAL: ReadonlySet<RunStatus> = new Set(["completed", "failed", "cancelled"]);

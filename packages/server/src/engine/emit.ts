import type { RunEventInput } from "@agentd/protocol";
import type { ActiveRun } from "./active-run.js";

/** Stamps an event for a run and queues it in the event log. */
export type Emit = (run: ActiveRun, input: RunEventInput) => void;

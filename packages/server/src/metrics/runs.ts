import type { RunStatus, Usage } from "@agentd/protocol";
import { Counter, Histogram, type Registry } from "prom-client";
import { BoundedChildren } from "./bounded.js";

/** What the engine reports of its runs; Metrics implements it. */
export interface RunObserver {
  /** A run began executing (its `started` event). `agentId` is null for an inline agent. */
  runStarted(agentId: string | null): void;
  /** A run ended (its terminal event), after `durationMs` since it started (since it was created, if it never started). */
  runEnded(agentId: string | null, status: RunStatus, durationMs: number, usage: Usage): void;
  /** This worker claimed a run mid-run: the worker executing it stopped and its lease lapsed (cluster mode). */
  leaseTakeover(): void;
}

/** Distinct agent ids with their own series; the rest are counted under `agent="other"`. */
export const MAX_AGENT_LABELS = 200;

/** Seconds; runs last from a second to many minutes (tool waits, approvals). */
const RUN_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** A run's series for one agent label, bound once. */
interface AgentChildren {
  started: Counter.Internal;
  ended: Record<"completed" | "failed" | "cancelled", Counter.Internal>;
  duration: Histogram.Internal<string>;
  input: Counter.Internal;
  output: Counter.Internal;
  cached: Counter.Internal;
  cost: Counter.Internal;
}

/**
 * Runs started and ended, their duration, tokens and cost, by agent (the
 * run's named agent; `""` for an inline one). Tokens and cost are counted
 * once per run, at its end, from the run's usage: what its terminal event
 * says, so the counters add up to the runs' usage.
 */
export class RunMetrics implements RunObserver {
  private readonly agents: BoundedChildren<AgentChildren>;
  private readonly takeovers: Counter.Internal;

  constructor(registry: Registry) {
    const registers = [registry];
    const started = new Counter({
      name: "agentd_runs_started_total",
      help: "Runs that began executing, by agent",
      labelNames: ["agent"],
      registers,
    });
    const ended = new Counter({
      name: "agentd_runs_ended_total",
      help: "Runs that ended, by agent and status (completed, failed, cancelled)",
      labelNames: ["agent", "status"],
      registers,
    });
    const duration = new Histogram({
      name: "agentd_run_duration_seconds",
      help: "Time from a run's start to its end, by agent",
      labelNames: ["agent"],
      buckets: RUN_BUCKETS,
      registers,
    });
    const tokens = new Counter({
      name: "agentd_tokens_total",
      help: "Tokens of ended runs, by agent and kind (input, output, cached: the part of input read from the provider's prompt cache)",
      labelNames: ["agent", "kind"],
      registers,
    });
    const cost = new Counter({
      name: "agentd_cost_usd_total",
      help: "USD cost of ended runs from the catalog's prices, by agent (runs whose price is unknown add nothing)",
      labelNames: ["agent"],
      registers,
    });
    const takeovers = new Counter({
      name: "agentd_lease_takeovers_total",
      help: "Runs this worker claimed mid-run (status running) after the lease of the worker executing them lapsed",
      registers,
    });
    this.takeovers = takeovers.labels();
    this.agents = new BoundedChildren(MAX_AGENT_LABELS, (agent) => ({
      started: started.labels(agent),
      ended: {
        completed: ended.labels(agent, "completed"),
        failed: ended.labels(agent, "failed"),
        cancelled: ended.labels(agent, "cancelled"),
      },
      duration: duration.labels(agent),
      input: tokens.labels(agent, "input"),
      output: tokens.labels(agent, "output"),
      cached: tokens.labels(agent, "cached"),
      cost: cost.labels(agent),
    }));
    // The inline agent's series exist from the start, at 0: a rate() over them needs no first run.
    this.agents.get("");
  }

  runStarted(agentId: string | null): void {
    this.agents.get(agentId ?? "").started.inc();
  }

  runEnded(agentId: string | null, status: RunStatus, durationMs: number, usage: Usage): void {
    const agent = this.agents.get(agentId ?? "");
    if (status === "completed" || status === "failed" || status === "cancelled") agent.ended[status].inc();
    agent.duration.observe(Math.max(0, durationMs) / 1000);
    if (usage.inputTokens > 0) agent.input.inc(usage.inputTokens);
    if (usage.outputTokens > 0) agent.output.inc(usage.outputTokens);
    if (usage.cachedInputTokens) agent.cached.inc(usage.cachedInputTokens);
    if (usage.costUsd) agent.cost.inc(usage.costUsd);
  }

  leaseTakeover(): void {
    this.takeovers.inc();
  }
}

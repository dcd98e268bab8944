import type { RunStatus, Usage } from "@agentd/protocol";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CircuitSnapshot, CircuitState } from "../models/circuit-breaker.js";
import { BoundedChildren } from "./bounded.js";
import type { RetentionObserver, SweepOutcome } from "../retention/sweeper.js";
import { RunMetrics, type RunObserver } from "./runs.js";

export type { RunObserver } from "./runs.js";

/** What the engine reports of its model calls; Metrics implements it, tests may pass their own. */
export interface ModelObserver {
  /** One call ended: `ok`, `error` (a provider failure), or `circuit_open` (refused unsent). */
  call(provider: string, outcome: "ok" | "error" | "circuit_open"): void;
  retry(provider: string, status: number | undefined): void;
  fallback(fromProvider: string, toProvider: string): void;
  /**
   * A call that answered took `durationMs` in all, its first output part
   * (text, reasoning, tool call or the finish) came after `firstOutputMs`.
   */
  timed(provider: string, modelId: string, durationMs: number, firstOutputMs: number): void;
}

/** What the engine reports: its model calls and its runs. */
export type EngineObserver = ModelObserver & RunObserver;

/** The current sizes the gauges read at scrape time (nothing is counted on the run path for them). */
export interface Sizes {
  activeRuns(): number;
  openStreams(): number;
  queueDepth(): number;
}

/** Distinct model ids with their own latency series; the rest share `model="other"`. */
const MAX_MODEL_LABELS = 200;
/** Seconds, for a whole model call. */
const MODEL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
/** Seconds, to a call's first output. */
const FIRST_OUTPUT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds, for one group commit of the event log. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, "half-open": 1, open: 2 };

/**
 * Node's own metrics (event loop lag, heap, GC), collected once per process:
 * each collection sets up a GC observer and an event-loop monitor that live
 * as long as the process, so a process running many servers (tests, an
 * embedding app) must not start one per server.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The server's Prometheus metrics (GET /metrics), on prom-client: Node's
 * own (event loop lag, heap, GC; one set per process) and agentd's. The circuit gauges are read
 * from the model registry at scrape time, so nothing is kept twice.
 */
export class Metrics implements EngineObserver, RetentionObserver {
  readonly registry = new Registry();
  private readonly runs = new RunMetrics(this.registry);
  private readonly calls = new Counter({
    name: "agentd_model_calls_total",
    help: "Model calls by provider and outcome (ok, error, circuit_open)",
    labelNames: ["provider", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: "agentd_model_retries_total",
    help: "Model calls repeated after a retryable failure, by provider and HTTP status (none for connection errors and timeouts)",
    labelNames: ["provider", "status"] as const,
    registers: [this.registry],
  });
  private readonly fallbacks = new Counter({
    name: "agentd_model_fallbacks_total",
    help: "Model steps that moved on to a fallback model",
    labelNames: ["from_provider", "to_provider"] as const,
    registers: [this.registry],
  });
  private readonly modelTimes: BoundedChildren<{ duration: Histogram.Internal<string>; firstOutput: Histogram.Internal<string> }>;
  private readonly commits = new Histogram({
    name: "agentd_store_commit_seconds",
    help: "Duration of the event log's group commits (one transaction each: the events, run and session changes of a turn)",
    buckets: COMMIT_BUCKETS,
    registers: [this.registry],
  }).labels();

  private readonly swept = new Counter({
    name: "agentd_retention_runs_deleted_total",
    help: "Ended runs the retention sweep of this process deleted, with their events and traces",
    registers: [this.registry],
  });
  private readonly sweeps = new Counter({
    name: "agentd_retention_sweeps_total",
    help: "Retention sweep rounds of this process by outcome: swept, skipped (another worker held the lock), stopped (shutdown), failed",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  constructor(circuits: () => CircuitSnapshot[]) {
    const registers = [this.registry];
    const duration = new Histogram({
      name: "agentd_model_call_duration_seconds",
      help: "Duration of model calls that answered, by provider and model",
      labelNames: ["provider", "model"],
      buckets: MODEL_BUCKETS,
      registers,
    });
    const firstOutput = new Histogram({
      name: "agentd_model_time_to_first_token_seconds",
      help: "Time from a model call's start to its first output part, by provider and model",
      labelNames: ["provider", "model"],
      buckets: FIRST_OUTPUT_BUCKETS,
      registers,
    });
    // Keyed by the model id alone (a model id has one provider): the lookup builds no key.
    const providers = new Map<string, string>();
    this.modelTimes = new BoundedChildren(MAX_MODEL_LABELS, (model) => {
      const provider = providers.get(model) ?? "other";
      return { duration: duration.labels(provider, model), firstOutput: firstOutput.labels(provider, model) };
    });
    this.providerOf = providers;
    new Gauge({
      name: "agentd_provider_circuit_state",
      help: "Each provider's circuit breaker in this process: 0 closed, 1 half-open, 2 open",
      labelNames: ["provider"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const circuit of circuits()) this.set({ provider: circuit.provider }, STATE_VALUE[circuit.state]);
      },
    });
    new Gauge({
      name: "agentd_provider_consecutive_failures",
      help: "Consecutive failed calls of each provider (the circuit opens at its failureThreshold)",
      labelNames: ["provider"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const circuit of circuits()) this.set({ provider: circuit.provider }, circuit.consecutiveFailures);
      },
    });
  }

  private readonly providerOf: Map<string, string>;
  private sizes: Sizes | undefined;

  /** Starts the gauges that read `sizes` at scrape time (once: the engine and streams exist after the metrics). */
  watch(sizes: Sizes): void {
    if (this.sizes) throw new Error("Metrics.watch() is called once");
    this.sizes = sizes;
    const registers = [this.registry];
    new Gauge({
      name: "agentd_active_runs",
      help: "Runs this process executes now (not paused)",
      registers,
      collect() {
        this.set(sizes.activeRuns());
      },
    });
    new Gauge({
      name: "agentd_open_streams",
      help: "Event streams (SSE) this process serves now",
      registers,
      collect() {
        this.set(sizes.openStreams());
      },
    });
    new Gauge({
      name: "agentd_queue_depth",
      help: "Runs waiting in this process's run queue",
      registers,
      collect() {
        this.set(sizes.queueDepth());
      },
    });
  }

  runStarted(agentId: string | null): void {
    this.runs.runStarted(agentId);
  }

  runEnded(agentId: string | null, status: RunStatus, durationMs: number, usage: Usage): void {
    this.runs.runEnded(agentId, status, durationMs, usage);
  }

  leaseTakeover(): void {
    this.runs.leaseTakeover();
  }

  timed(provider: string, modelId: string, durationMs: number, firstOutputMs: number): void {
    if (!this.providerOf.has(modelId) && this.providerOf.size < MAX_MODEL_LABELS) this.providerOf.set(modelId, provider);
    const times = this.modelTimes.get(modelId);
    times.duration.observe(durationMs / 1000);
    times.firstOutput.observe(firstOutputMs / 1000);
  }

  /** One group commit of the event log took `durationMs`. */
  committed(durationMs: number): void {
    this.commits.observe(durationMs / 1000);
  }

  runsSwept(count: number): void {
    this.swept.inc(count);
  }

  sweepEnded(outcome: SweepOutcome["outcome"]): void {
    this.sweeps.inc({ outcome });
  }

  call(provider: string, outcome: "ok" | "error" | "circuit_open"): void {
    this.calls.inc({ provider, outcome });
  }

  retry(provider: string, status: number | undefined): void {
    this.retries.inc({ provider, status: status === undefined ? "none" : String(status) });
  }

  fallback(fromProvider: string, toProvider: string): void {
    this.fallbacks.inc({ from_provider: fromProvider, to_provider: toProvider });
  }

  /** The text exposition format, for GET /metrics. */
  text(): Promise<string> {
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

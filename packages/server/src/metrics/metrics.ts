import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { CircuitSnapshot, CircuitState } from "../models/circuit-breaker.js";

/** What the engine reports of its model calls; Metrics implements it, tests may pass their own. */
export interface ModelObserver {
  /** One call ended: `ok`, `error` (a provider failure), or `circuit_open` (refused unsent). */
  call(provider: string, outcome: "ok" | "error" | "circuit_open"): void;
  retry(provider: string, status: number | undefined): void;
  fallback(fromProvider: string, toProvider: string): void;
}

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
export class Metrics implements ModelObserver {
  readonly registry = new Registry();
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

  constructor(circuits: () => CircuitSnapshot[]) {
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

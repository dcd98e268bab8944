import http from "node:http";
import { Redis } from "ioredis";
import type pg from "pg";
import type { Cluster } from "../cluster/harness.js";
import type { Phase, SoakLoad } from "./load.js";
import { type Ports, type ProcessSample, sampleProcess, selfSample } from "./probe.js";

/*
 * Samples the workers (through /proc: RSS, CPU, descriptors by kind), the
 * database (pg_stat_activity of the suite's database, the workers'
 * connections only), the Redis queue and the clients (streams open) every
 * `intervalMs`, from the start of the load to the end of the drain.
 */

export interface WorkerSample extends ProcessSample {
  /** CPU used since the previous sample, in % of one core. */
  cpuPercent: number;
  /** Round trip of GET /healthz on a new connection, ms: the worker's responsiveness (event-loop lag). */
  healthMs: number;
}

export interface Sample {
  /** Milliseconds since the load started. */
  t: number;
  /** Per worker; undefined when its process is gone. */
  workers: Array<WorkerSample | undefined>;
  /** Connections to the suite's database other than the soak's own (pg_stat_activity). */
  dbConnections: number;
  /** Run ids waiting in the Redis queue. */
  queueLength: number;
  /** SSE responses open, per worker read from. */
  openStreams: number[];
  /** Clients between POST and terminal event. */
  inRun: number;
  /** Their runs by phase. */
  phases: Record<Phase, number>;
  /** Client sockets per worker (in use or idle in the keep-alive pool). */
  clientSockets: number[];
  selfRss: number;
  selfCpuPercent: number;
}

export const SOAK_APPLICATION_NAME = "agentd-soak";

export class Monitor {
  readonly samples: Sample[] = [];
  private readonly redis: Redis;
  private readonly ports: Ports[];
  private readonly pids: number[];
  private previous: { at: number; cpu: number[]; self: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private origin = Date.now();

  constructor(
    private readonly cluster: Cluster,
    private readonly db: pg.Pool,
    private readonly load: SoakLoad,
  ) {
    const postgres = Number(new URL(cluster.databaseUrl).port || 5432);
    const redis = Number(new URL(cluster.redisUrl).port || 6379);
    const providers = cluster.providers.map((provider) => Number(new URL(provider.url).port));
    this.pids = cluster.workers.map((worker) => worker.pid);
    this.ports = cluster.workers.map((worker) => ({ http: Number(new URL(worker.url).port), postgres, redis, providers }));
    this.redis = new Redis(cluster.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    this.redis.on("error", () => undefined);
  }

  /** One sample now (not recorded): the workers' descriptors and memory, e.g. before the load or after the drain. */
  async probe(): Promise<Sample> {
    const health = await Promise.all(this.cluster.workers.map((worker) => healthRoundTrip(worker.url)));
    const now = Date.now();
    const raw = this.pids.map((pid, index) => sampleProcess(pid, this.ports[index]!));
    const self = selfSample();
    const elapsed = this.previous ? (now - this.previous.at) / 1_000 : 0;
    const workers = raw.map((sample, index) => {
      if (!sample) return undefined;
      const before = this.previous?.cpu[index];
      const cpuPercent = elapsed > 0 && before !== undefined ? ((sample.cpuSeconds - before) / elapsed) * 100 : Number.NaN;
      return { ...sample, cpuPercent, healthMs: health[index]! };
    });
    const selfCpuPercent = elapsed > 0 && this.previous ? ((self.cpuSeconds - this.previous.self) / elapsed) * 100 : Number.NaN;
    this.previous = { at: now, cpu: raw.map((sample) => sample?.cpuSeconds ?? Number.NaN), self: self.cpuSeconds };
    const [dbConnections, queueLength] = await Promise.all([
      this.db
        .query<{ count: number }>(
          "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND application_name <> $1",
          [SOAK_APPLICATION_NAME],
        )
        .then((result) => result.rows[0]!.count)
        .catch(() => Number.NaN),
      this.redis.llen(`${this.cluster.redisPrefix}queue`).catch(() => Number.NaN),
    ]);
    return {
      t: now - this.origin,
      workers,
      dbConnections,
      queueLength,
      openStreams: [...this.load.openStreams],
      inRun: this.load.inRun,
      phases: { ...this.load.phases },
      clientSockets: this.load.clientSockets(),
      selfRss: self.rss,
      selfCpuPercent,
    };
  }

  /** Starts recording a sample every `intervalMs`; t = 0 is now. */
  start(intervalMs: number, onSample?: (sample: Sample) => void): void {
    this.origin = Date.now();
    const tick = (): void => {
      this.sampling = this.probe().then(
        (sample) => {
          this.samples.push(sample);
          onSample?.(sample);
        },
        () => undefined,
      );
      void this.sampling.finally(() => {
        if (this.timer) this.timer = setTimeout(tick, intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** GET /healthz on a fresh connection: milliseconds to the answer (NaN if none within 10 s). */
function healthRoundTrip(url: string): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, { agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(Number.NaN));
  });
}

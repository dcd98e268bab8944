import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/*
 * What the soak measures on a worker process from the outside, through /proc
 * (Linux only): resident memory, CPU time, and its open file descriptors,
 * with every TCP socket among them attributed to its peer by matching the
 * socket's inode against /proc/net/tcp{,6}. So the PostgreSQL and Redis
 * connections are counted per worker without any help from the server
 * (it sets no application_name), and the descriptors that are not explained
 * by the load (files, pipes, epoll, timers, the listening socket...) can be
 * watched on their own: those must stay flat.
 */

export interface Ports {
  /** The worker's HTTP port: sockets with this local port are clients' connections (SSE streams, POSTs). */
  http: number;
  postgres: number;
  redis: number;
  /** The fake model providers' ports: the worker's model calls. */
  providers: number[];
}

export interface ProcessSample {
  /** VmRSS, bytes. */
  rss: number;
  /** RssAnon, bytes (the heap and other private memory, without mapped code). */
  rssAnon: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
  fds: number;
  /** Sockets accepted on the worker's HTTP port. */
  inbound: number;
  postgres: number;
  redis: number;
  provider: number;
  /** Descriptors not explained by the sockets above: must stay flat under a steady load. */
  residual: number;
}

interface TcpSocket {
  localPort: number;
  remotePort: number;
  /** /proc/net/tcp state, hex: 01 ESTABLISHED, 0A LISTEN, 08 CLOSE_WAIT, ... */
  state: string;
}

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** Every TCP socket of this network namespace, by inode. */
export function tcpSockets(): Map<string, TcpSocket> {
  const sockets = new Map<string, TcpSocket>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    const lines = text.split("\n");
    for (let index = 1; index < lines.length; index++) {
      const fields = lines[index]!.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const local = fields[1]!;
      const remote = fields[2]!;
      sockets.set(fields[9]!, {
        localPort: parseInt(local.slice(local.lastIndexOf(":") + 1), 16),
        remotePort: parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16),
        state: fields[3]!,
      });
    }
  }
  return sockets;
}

function statusField(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * One sample of process `pid`; undefined when it is gone. The descriptors are listed first and the TCP
 * table read after, so a socket opened meanwhile is in the table; one that is not (a socket closed
 * meanwhile, or not TCP) is looked at again: gone, it is not counted; still there, it counts as "other".
 */
export function sampleProcess(pid: number, ports: Ports): ProcessSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuSeconds = (Number(after[11]) + Number(after[12])) / TICKS_PER_SECOND;
    const sample: ProcessSample = {
      rss: statusField(status, "VmRSS"),
      rssAnon: statusField(status, "RssAnon"),
      cpuSeconds,
      fds: 0,
      inbound: 0,
      postgres: 0,
      redis: 0,
      provider: 0,
      residual: 0,
    };
    const targets: Array<[string, string]> = [];
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        targets.push([fd, readlinkSync(`/proc/${pid}/fd/${fd}`)]);
      } catch {
        // closed meanwhile
      }
    }
    const sockets = tcpSockets();
    const providers = new Set(ports.providers);
    for (const [fd, target] of targets) {
      const inode = target.startsWith("socket:[") ? target.slice(8, -1) : undefined;
      const socket = inode === undefined ? undefined : sockets.get(inode);
      if (inode !== undefined && !socket) {
        let now: string | undefined;
        try {
          now = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          now = undefined;
        }
        if (now !== target) continue; // closed meanwhile
      }
      sample.fds++;
      if (!socket) sample.residual++;
      else if (socket.localPort === ports.http && socket.state !== "0A") sample.inbound++;
      else if (socket.remotePort === ports.postgres) sample.postgres++;
      else if (socket.remotePort === ports.redis) sample.redis++;
      else if (providers.has(socket.remotePort)) sample.provider++;
      else sample.residual++;
    }
    return sample;
  } catch {
    return undefined;
  }
}

/** This process's RSS and CPU seconds (the load generator, for the report). */
export function selfSample(): { rss: number; cpuSeconds: number } {
  const usage = process.cpuUsage();
  return { rss: process.memoryUsage.rss(), cpuSeconds: (usage.user + usage.system) / 1e6 };
}

// --- statistics -----------------------------------------------------------------------

/** Least-squares line through (x, y): slope per unit of x, and the mean of y. */
export function linearFit(xs: number[], ys: number[]): { slope: number; intercept: number; meanY: number } {
  const n = xs.length;
  if (n < 2) return { slope: 0, intercept: ys[0] ?? 0, meanY: ys[0] ?? 0 };
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let index = 0; index < n; index++) {
    sxy += (xs[index]! - meanX) * (ys[index]! - meanY);
    sxx += (xs[index]! - meanX) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: meanY - slope * meanX, meanY };
}

/**
 * Growth of `ys` over time `ts` (ms) in % of its mean per hour (least-squares slope), with the slope's
 * standard error in the same unit: how finely the samples can tell a trend from their scatter. (It
 * assumes independent scatter; samples of a slow sawtooth are not, so read it as a lower bound.)
 */
export function growth(ts: number[], ys: number[]): { perHour: number; standardError: number } {
  const n = ts.length;
  const { slope, intercept, meanY } = linearFit(ts, ys);
  if (n < 3 || meanY === 0) return { perHour: n < 2 || meanY === 0 ? 0 : ((slope * 3_600_000) / meanY) * 100, standardError: Number.NaN };
  const meanT = ts.reduce((a, b) => a + b, 0) / n;
  let residuals = 0;
  let spread = 0;
  for (let index = 0; index < n; index++) {
    residuals += (ys[index]! - (intercept + slope * ts[index]!)) ** 2;
    spread += (ts[index]! - meanT) ** 2;
  }
  const slopeError = spread === 0 ? Number.NaN : Math.sqrt(residuals / (n - 2) / spread);
  const toPercentPerHour = (value: number): number => ((value * 3_600_000) / meanY) * 100;
  return { perHour: toPercentPerHour(slope), standardError: toPercentPerHour(slopeError) };
}

export function minMax(values: number[]): { min: number; max: number } {
  if (values.length === 0) return { min: Number.NaN, max: Number.NaN };
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
}

export const mean = (values: number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);

/** A plain-text table: the first row is the header; the first column left-aligned, the others right-aligned (or left). */
export function table(rows: Array<Array<string | number>>, { alignRight = true }: { alignRight?: boolean } = {}): string {
  const cells = rows.map((row) => row.map(String));
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === 0 || !alignRight ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

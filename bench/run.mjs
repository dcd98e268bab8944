// `npm run bench`: agentd on its embedded store against a zero-latency fake
// provider, each in its own process, once per provider path (openai,
// anthropic, openai-compatible: the real adapter of that provider type
// against the fake provider's route for its protocol; mock: the built-in
// model, no provider). Each path gets a fresh agentd process, so its RSS is
// its own. Prints one line per path with the figures of issue #2: throughput
// at c=50, server CPU per run, overhead over the direct provider call in the
// same protocol, time to first delta, RSS, failures.
//
// BENCH_PATHS (comma list, default all four) picks the paths;
// BENCH_SEQUENTIAL, BENCH_RUNS, BENCH_CONCURRENCY set the sizes per path;
// BENCH_PROFILE=<dir> writes a V8 CPU profile of each agentd process.
import { fork } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { postJson, readUntil } from "./http.mjs";

const ALL_PATHS = ["openai", "anthropic", "openai-compatible", "mock"];
const PATHS = (process.env.BENCH_PATHS ?? ALL_PATHS.join(",")).split(",").map((path) => path.trim()).filter(Boolean);
for (const path of PATHS) {
  if (!ALL_PATHS.includes(path)) {
    console.error(`BENCH_PATHS: unknown path '${path}' (known: ${ALL_PATHS.join(", ")})`);
    process.exit(2);
  }
}
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 500);
const CONCURRENT_RUNS = Number(process.env.BENCH_RUNS ?? 6000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARMUP = 50;
const TTFT_RUNS = 200;
/** A run slower than this counts as failed (a hung adapter must not hang the bench). */
const RUN_TIMEOUT_MS = 10_000;
const script = fileURLToPath(new URL("./processes.mjs", import.meta.url));

function start(role, ...args) {
  const execArgv = role === "agentd" && process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = fork(script, [role, ...args], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  return new Promise((resolve, reject) => {
    child.once("message", (message) => resolve({ child, ...message }));
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

const ask = (child) => new Promise((resolve) => { child.once("message", resolve); child.send("stats"); });
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sortNumbers = (values) => values.sort((a, b) => a - b);
const ms = (value) => (value === undefined || Number.isNaN(value) ? "–" : `${value.toFixed(2)} ms`);
const isTerminal = (text) => text.includes("event: result\n") || text.includes("event: cancelled\n");

// CPU ticks from /proc (Linux), to say how much of the machine other processes took during the c=50 phase.
const HAS_PROC = existsSync("/proc/stat");
const HZ = 100; // USER_HZ
function machineBusyTicks() {
  const [, user, nice, system, , , irq, softirq] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  return user + nice + system + irq + softirq; // guest time is already in user; idle, iowait and steal are not busy here
}
function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

const cpus = os.cpus();
const load = os.loadavg()[0];
console.log(
  `machine: node ${process.version}, ${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), ${os.platform()} ${os.arch()}, ` +
  `${Math.round(os.totalmem() / 2 ** 30)} GB RAM, load average ${load.toFixed(2)} at start`,
);
console.log(
  `agentd benchmark — embedded store (SQLite WAL), fake provider with 0 latency in its own process, a fresh agentd process per path; per path: ` +
  `${SEQUENTIAL} sequential runs of 1 model call × 20 tokens (alternating with a direct call to the provider in the path's protocol), ` +
  `${CONCURRENT_RUNS} runs at c=${CONCURRENCY}, ${TTFT_RUNS} runs of 200 tokens for TTFT`,
);
console.log(
  `overhead = POST → terminal event via agentd minus the direct streamed call, p50 − p50 and p99 − p99; CPU = agentd's process.cpuUsage over the c=${CONCURRENCY} phase / runs; ` +
  `TTFT = POST → first assistant_delta; RSS = agentd's after the path's load; others = cores used by other processes during the c=${CONCURRENCY} phase (when high, the figures are low)`,
);

const benchStarted = performance.now();
const provider = await start("provider");
const rows = [];
let anyFailure = false;

for (const path of PATHS) {
  const pathStarted = performance.now();
  try {
    const row = await benchPath(path);
    rows.push(row);
    anyFailure ||= row.failures > 0;
    console.log(row.line + `  (${((performance.now() - pathStarted) / 1000).toFixed(0)} s)`);
  } catch (error) {
    anyFailure = true;
    console.log(`${path.padEnd(17)} FAILED: ${error.message}`);
  }
}
console.log(`total ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
provider.child.kill();
process.exit(anyFailure ? 1 : 0);

class PathAborted extends Error {}

async function benchPath(path) {
  const agentd = await start("agentd", JSON.stringify(provider), path);
  try {
    return await measure(path, agentd);
  } finally {
    await new Promise((resolve) => {
      agentd.child.once("exit", resolve);
      agentd.child.send("exit");
    });
    rmSync(agentd.dataDir, { recursive: true, force: true });
  }
}

async function measure(path, agentd) {
  const headers = { authorization: `Bearer ${agentd.key}` };
  const runsUrl = `${agentd.url}/api/v1/workspaces/bench/agent-runs`;
  const mock = path === "mock";
  // The mock echoes "[mock] You said: <prompt>" a word per token: prompts of 17 and 197 words give 20 and 200 tokens.
  const words = (count) => Array.from({ length: count }, (_, index) => `w${index}`).join(" ");
  const short = mock ? { modelId: "mock", prompt: words(17) } : { modelId: "provider:fake:fake-20", prompt: "go" };
  const long = mock ? { modelId: "mock", prompt: words(197) } : { modelId: "provider:fake200:fake-200", prompt: "go" };

  let attempts = 0;
  let failures = 0;
  let firstError;
  function failed(error) {
    failures++;
    firstError ??= error.message;
    // Give up on a path that mostly fails instead of timing out run after run.
    if (failures >= 20 && failures > attempts * 0.05) throw new PathAborted(`aborted after ${failures} failed runs of ${attempts}; first: ${firstError}`);
  }

  async function oneRun(kind, onChunk) {
    attempts++;
    let timer;
    const run = (async () => {
      const { streamUrl } = await postJson(runsUrl, { systemPrompt: "You are a benchmark.", modelId: kind.modelId, prompt: kind.prompt }, headers);
      const text = await readUntil(`${agentd.url}${streamUrl}`, "GET", undefined, headers, isTerminal, onChunk);
      if (!text.includes('"subtype":"success"')) throw new Error(`run did not succeed: ${text.slice(-300)}`);
    })();
    const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`run took over ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS); });
    try {
      await Promise.race([run, timeout]);
      return true;
    } catch (error) {
      failed(error);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  const directCall =
    path === "anthropic"
      ? async () => {
          const body = { model: "fake-20", max_tokens: 1024, stream: true, messages: [{ role: "user", content: "go" }] };
          const text = await readUntil(provider.anthropicDirect, "POST", body, { "x-api-key": "bench", "anthropic-version": "2023-06-01" }, (seen) => seen.includes("event: message_stop"));
          if (!text.includes("event: message_stop")) throw new Error("direct Messages call ended early");
        }
      : mock
        ? undefined
        : async () => {
            const body = { model: "fake-20", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "go" }] };
            const text = await readUntil(provider.direct, "POST", body, { authorization: "Bearer bench" }, (seen) => seen.includes("[DONE]"));
            if (!text.includes("[DONE]")) throw new Error("direct Chat Completions call ended early");
          };

  try {
    // Sequential: the direct call and the run through agentd alternate, so both see the same machine.
    for (let i = 0; i < WARMUP; i++) {
      if (directCall) await directCall();
      await oneRun(short);
    }
    const direct = [];
    const viaAgentd = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      if (directCall) {
        const begin = performance.now();
        await directCall();
        direct.push(performance.now() - begin);
      }
      const begin = performance.now();
      if (await oneRun(short)) viaAgentd.push(performance.now() - begin);
    }
    sortNumbers(direct);
    sortNumbers(viaAgentd);

    // Throughput at concurrency c, with the server's CPU time over the same window.
    const before = await ask(agentd.child);
    const ticksBefore = HAS_PROC && { machine: machineBusyTicks(), agentd: processTicks(agentd.child.pid), provider: processTicks(provider.child.pid), self: processTicks(process.pid) };
    let next = 0;
    let concurrentFailures = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CONCURRENT_RUNS) {
          next++;
          if (!(await oneRun(short))) concurrentFailures++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const after = await ask(agentd.child);
    const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000;
    let others;
    if (HAS_PROC) {
      const used = machineBusyTicks() - ticksBefore.machine
        - (processTicks(agentd.child.pid) - ticksBefore.agentd)
        - (processTicks(provider.child.pid) - ticksBefore.provider)
        - (processTicks(process.pid) - ticksBefore.self);
      others = Math.max(0, used / HZ / elapsed);
    }

    // Time to first delta on a 200-token stream.
    const ttft = [];
    for (let i = 0; i < TTFT_RUNS; i++) {
      const begin = performance.now();
      let first;
      const ok = await oneRun(long, (text) => {
        if (first === undefined && text.includes("event: assistant_delta")) first = performance.now() - begin;
      });
      if (ok && first !== undefined) ttft.push(first);
      else if (ok) failed(new Error("no assistant_delta on the stream"));
    }
    sortNumbers(ttft);
    const final = await ask(agentd.child);

    const agentdP50 = percentile(viaAgentd, 50);
    const agentdP99 = percentile(viaAgentd, 99);
    const protocol = path === "anthropic" ? "Messages" : "Chat Completions";
    const overhead = mock
      ? `overhead n/a (no provider; agentd p50 ${ms(agentdP50)} p99 ${ms(agentdP99)})`
      : `overhead p50 ${ms(agentdP50 - percentile(direct, 50))} (≤ 1.5 ms) p99 ${ms(agentdP99 - percentile(direct, 99))} over direct ${protocol} p50 ${ms(percentile(direct, 50))} p99 ${ms(percentile(direct, 99))}`;
    const throughput = (CONCURRENT_RUNS - concurrentFailures) / elapsed;
    const line = [
      `${path.padEnd(17)} ${throughput.toFixed(0).padStart(5)} runs/s at c=${CONCURRENCY} (target ≥ 2,000${CONCURRENCY === 50 ? "" : " at c=50"})`,
      `CPU ${(cpuMs / CONCURRENT_RUNS).toFixed(3)} ms/run (≤ 0.5)`,
      overhead,
      `TTFT p50 ${ms(percentile(ttft, 50))} p99 ${ms(percentile(ttft, 99))}`,
      `RSS ${(final.rss / 2 ** 20).toFixed(0)} MB (≤ 150)`,
      `${failures} failed${firstError ? ` (first: ${firstError.slice(0, 200)})` : ""}`,
      ...(others === undefined ? [] : [`others ${others.toFixed(2)} cores`]),
    ].join(" | ");
    return { path, failures, line };
  } catch (error) {
    if (error instanceof PathAborted) throw error;
    throw new Error(`${error.message}${failures > 0 ? ` (after ${failures} failed runs; first: ${firstError})` : ""}`);
  }
}

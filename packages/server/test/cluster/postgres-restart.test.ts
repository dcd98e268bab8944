import { expect, it } from "vitest";
import { clusterSuite, NetworkError, sleep, waitUntil, WORKERS } from "./harness.js";
import { startPrivatePostgres, type PrivatePostgres } from "./services.js";
import { crashes, ToolWorkload, waitAllTerminal } from "./workload.js";

/*
 * PostgreSQL restarts during load (issue #4), on a PRIVATE PostgreSQL started
 * by this file (initdb in a temp dir, its own port; as the `postgres` user
 * when the tests run as root), never the shared one. The crash is an
 * immediate shutdown (SIGQUIT: WAL recovery on the next start). While it is
 * down, a prober keeps sending requests through the load balancer: every
 * answer is 2xx or 503, never a 500, and no worker dies. Afterwards every run
 * ends, and every event a client was sent is in the log at its seq: no
 * committed event is lost.
 */

const RUNS = 20;
const OUTAGE_MS = Number(process.env.CLUSTER_OUTAGE_MS ?? 3_000);
let postgres: PrivatePostgres | undefined;
const suite = clusterSuite({
  name: "PostgreSQL restart",
  workers: Math.min(WORKERS, 2),
  before: async () => {
    const started = await startPrivatePostgres();
    if ("skip" in started) return { skip: `cannot run a private PostgreSQL here: ${started.skip}` };
    postgres = started;
    return { databaseUrl: started.url };
  },
  after: async () => {
    await postgres?.close();
  },
});

interface Probe {
  what: string;
  phase: "before" | "outage" | "after";
  status: number | string;
  startedAt: number;
  ms: number;
}

it("PostgreSQL restarts under load: requests during the outage get 503 (never 500), and no committed event is lost", async (ctx) => {
  const cluster = suite.use(ctx);
  const pgServer = postgres!;
  const load = new ToolWorkload(cluster, { chunkDelayMs: 30, followTimeoutMs: 180_000, retryCreate503: false });
  await load.start(RUNS, { concurrency: 5 });

  const now: { phase: Probe["phase"] } = { phase: "before" };
  let probing = true;
  const probes: Probe[] = [];
  const prober = (async () => {
    for (let n = 0; probing && cluster.live().length > 0; n++) {
      const started = Date.now();
      const startPhase = now.phase;
      const kind = ["snapshot", "list", "create"][n % 3]!;
      let status: number | string;
      try {
        if (kind === "create") {
          const [run] = await load.start(1);
          status = typeof run!.createStatus === "number" ? run!.createStatus : String(run!.createStatus);
        } else {
          const known = load.runs.filter((run) => run.runId);
          const path = kind === "list" ? "/agent-runs?limit=5" : `/agent-runs/${known[n % known.length]!.runId}`;
          status = (await cluster.request("GET", path, undefined, { deadlineMs: 30_000 })).status;
        }
      } catch (error) {
        status = error instanceof NetworkError ? `network error: ${error.message}` : `error: ${(error as Error).message}`;
      }
      probes.push({
        what: kind,
        phase: startPhase === "after" ? "after" : startPhase === "outage" || now.phase !== "before" ? "outage" : "before",
        status,
        startedAt: started,
        ms: Date.now() - started,
      });
      await sleep(50);
    }
  })();

  let upAt = Number.POSITIVE_INFINITY;
  try {
    await waitUntil(() => load.calls.length >= RUNS, { timeoutMs: 60_000, what: "the runs under way" });
    await sleep(500); // some probes before the outage
    now.phase = "outage";
    await pgServer.stop("immediate");
    console.log(
      `PostgreSQL down (immediate shutdown) with ${load.completed()}/${load.runs.length} runs finished; up again in ${OUTAGE_MS} ms`,
    );
    await sleep(OUTAGE_MS);
    await pgServer.start();
    upAt = Date.now();
    now.phase = "after";
    await sleep(3_000);
  } finally {
    probing = false;
    await prober;
    if (!pgServer.running) await pgServer.start();
  }

  await load.settle();
  const failures = await load.verify({ expectSuccess: false });
  const byPhase = (which: Probe["phase"]) => probes.filter((probe) => probe.phase === which);
  const histogram = (list: Probe[]): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const probe of list) {
      const key = `${probe.what} ${String(probe.status).split(":")[0]}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };
  console.log(
    `PostgreSQL restart: probes before ${JSON.stringify(histogram(byPhase("before")))}, during ${JSON.stringify(histogram(byPhase("outage")))}, after ${JSON.stringify(histogram(byPhase("after")))}`,
  );
  console.log(
    `PostgreSQL restart: outcomes ${JSON.stringify(load.outcomes())}; creates refused ${JSON.stringify(load.refusedCreates.map((status) => String(status).split(":")[0]))}`,
  );

  expect(crashes(cluster), "workers that died on their own").toEqual([]);
  // Never a 500 (nor a dead worker behind a connection error): 2xx, or 503 while the database is away.
  expect(probes.filter((probe) => !(probe.status === 200 || probe.status === 202 || probe.status === 503))).toEqual([]);
  expect(load.refusedCreates.filter((status) => status !== 503)).toEqual([]);
  expect(
    byPhase("outage").some((probe) => probe.status === 503),
    "the outage was seen (some request got 503)",
  ).toBe(true);
  expect(
    byPhase("before").filter((probe) => probe.status === 503),
    "no 503 before the outage",
  ).toEqual([]);
  // Back to normal a second after the database is.
  expect(
    probes.filter((probe) => probe.startedAt > upAt + 1_000 && probe.status === 503),
    "503 more than 1 s after the restart",
  ).toEqual([]);
  // Every run created ends, and every event a client was sent is in the log, at its seq.
  expect(failures).toEqual([]);
  expect(await waitAllTerminal(cluster)).toEqual([]);
}, 300_000);

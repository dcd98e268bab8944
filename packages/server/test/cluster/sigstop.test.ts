import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { clusterSuite, type FollowResult, type Frame, isTerminal, sleep, waitUntil } from "./harness.js";
import { crashes, MODEL_ID, verifyRun } from "./workload.js";

/*
 * SIGSTOP the lease holder past its lease, resume it (issue #4): a few runs
 * stream slow model replies ("old0 old1 ..."); the worker holding the most is
 * frozen mid-reply. Another worker must take them over (`run_resumed`) and
 * stream a new reply ("new0 ..."); the frozen one is resumed (SIGCONT) while
 * the new holder is still streaming, with the rest of the old reply waiting
 * in its socket. Nothing it writes after the takeover may reach the log: the
 * log stays gapless with one terminal event, no two events share a seq, no
 * "old" text follows the takeover, and the log does not change afterwards.
 */

const HELD_RUNS = 4;
const OLD_WORDS = 50;
const NEW_WORDS = 15;
const CHUNK_DELAY_MS = 120;
const suite = clusterSuite({ name: "SIGSTOP", minWorkers: 2 });

const words = (prefix: string, count: number): string => Array.from({ length: count }, (_, index) => `${prefix}${index}`).join(" ");
const OLD_TEXT = /\bold\d+\b/;

it("SIGSTOP of the lease holder past its lease, then SIGCONT: another worker takes over, and nothing the old holder writes after that reaches the log", async (ctx) => {
  const cluster = suite.use(ctx);
  const suffix = randomBytes(3).toString("hex");
  const tags = Array.from({ length: HELD_RUNS }, (_, index) => `h${index}_${suffix}`);
  /** Workers that made each model call of a run, in order. */
  const calls = new Map<string, number[]>();
  cluster.script((request, worker) => {
    const tag = /\bhold (h\w+)/.exec(JSON.stringify(request.body.messages ?? []))?.[1];
    if (!tag) return undefined;
    const made = calls.get(tag) ?? [];
    made.push(worker);
    calls.set(tag, made);
    return made.length === 1
      ? { text: words("old", OLD_WORDS), chunkDelayMs: CHUNK_DELAY_MS }
      : { text: words("new", NEW_WORDS), chunkDelayMs: CHUNK_DELAY_MS };
  });

  const runIds = new Map<string, string>();
  const seen = new Map<string, Frame[]>();
  const following = new Map<string, Promise<FollowResult>>();
  for (const tag of tags) {
    const created = await cluster.createRun({ systemPrompt: "x", modelId: MODEL_ID, prompt: `hold ${tag}` }, tag, { retry503: true });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    runIds.set(tag, created.body.runId);
    seen.set(tag, []);
    following.set(tag, cluster.follow(created.body.runId, { timeoutMs: 120_000, onFrame: (frame) => seen.get(tag)!.push(frame) }));
  }

  // Every run mid-reply on some worker.
  await waitUntil(
    () => tags.every((tag) => (calls.get(tag)?.length ?? 0) >= 1 && seen.get(tag)!.some((frame) => frame.type === "assistant_delta")),
    {
      timeoutMs: 30_000,
      what: "every run streaming its first reply",
    },
  );
  const holders = new Map<number, string[]>();
  for (const tag of tags) holders.set(calls.get(tag)![0]!, [...(holders.get(calls.get(tag)![0]!) ?? []), tag]);
  const [victim, victimTags] = [...holders.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  expect(
    tags.every((tag) => calls.get(tag)!.length === 1 && !seen.get(tag)!.some(isTerminal)),
    "no run finished or restarted before the stop",
  ).toBe(true);

  await cluster.killWorker(victim, "SIGSTOP");
  const stoppedAt = Date.now();
  console.log(`SIGSTOP worker ${victim}, holding ${victimTags.length} of ${HELD_RUNS} runs (lease ${cluster.leaseMs} ms)`);
  try {
    const resumedAfterTakeover = (tag: string): Frame[] => {
      const frames = seen.get(tag)!;
      const at = frames.findIndex((frame) => frame.type === "run_resumed");
      return at < 0 ? [] : frames.slice(at);
    };
    await waitUntil(() => victimTags.every((tag) => resumedAfterTakeover(tag).length > 0), {
      timeoutMs: 30_000 + 5 * cluster.leaseMs,
      what: `run_resumed on every run worker ${victim} held`,
    });
    const takeoverMs = Date.now() - stoppedAt;
    // The new holder is streaming its reply: now the old one wakes up, with the rest of the old reply in its socket.
    await waitUntil(
      () =>
        victimTags.every((tag) =>
          resumedAfterTakeover(tag).some((frame) => frame.type === "assistant_delta" && /\bnew\d+/.test(frame.data.text)),
        ),
      {
        timeoutMs: 30_000,
        what: "the new holders streaming",
      },
    );
    console.log(`takeover after ${takeoverMs} ms; SIGCONT worker ${victim} ${Date.now() - stoppedAt} ms after the stop`);
    for (const tag of victimTags) expect(calls.get(tag)!.slice(1), `${tag}: model calls after the takeover`).not.toContain(victim);
  } finally {
    await cluster.killWorker(victim, "SIGCONT");
  }

  const results = new Map<string, FollowResult>();
  for (const tag of tags) results.set(tag, await following.get(tag)!);
  // Let the old holder do whatever it does now, for two leases and more.
  await sleep(2 * cluster.leaseMs + 1_500);

  const failures: string[] = [];
  for (const tag of tags) {
    const runId = runIds.get(tag)!;
    failures.push(...(await verifyRun(cluster, runId, results.get(tag), { expectSuccess: false })).map((failure) => `${tag}: ${failure}`));
    // (verifyRun had every live worker, the resumed one included, replay the whole log, the same.)
    let first: Frame[];
    try {
      first = (await cluster.readLog(runId)).frames;
    } catch (error) {
      failures.push(`${tag}: ${(error as Error).message}`);
      continue;
    }
    if (first.length !== results.get(tag)!.frames.length)
      failures.push(
        `${tag}: the log changed after the client saw the terminal event (${results.get(tag)!.frames.length} → ${first.length} frames)`,
      );
    const terminal = first.at(-1);
    if (terminal?.type !== "result" || terminal.data.subtype !== "success")
      failures.push(`${tag}: ended with ${terminal?.type} ${terminal?.data.subtype ?? ""}`);
    const snapshot = await cluster.request("GET", `/agent-runs/${runId}`, undefined, { retry503: true });
    if (snapshot.body?.status !== "completed") failures.push(`${tag}: snapshot status ${snapshot.body?.status}`);
    if (victimTags.includes(tag)) {
      const resumedAt = first.map((frame) => frame.type).lastIndexOf("run_resumed");
      if (resumedAt < 0) failures.push(`${tag}: no run_resumed in the log`);
      const late = first.slice(resumedAt + 1).filter((frame) => OLD_TEXT.test(JSON.stringify(frame.data)));
      if (late.length > 0)
        failures.push(
          `${tag}: written by the old holder after the takeover: ${late.map((frame) => `${frame.seq}:${frame.type}`).join(", ")}`,
        );
      if (OLD_TEXT.test(String(terminal?.data.text ?? "")))
        failures.push(`${tag}: the result has the old reply's text: ${JSON.stringify(terminal?.data.text)}`);
      if (OLD_TEXT.test(JSON.stringify(snapshot.body?.text ?? ""))) failures.push(`${tag}: the snapshot has the old reply's text`);
    }
  }
  expect(failures).toEqual([]);
  expect(crashes(cluster), "workers that died on their own (the resumed old holder included)").toEqual([]);
}, 240_000);

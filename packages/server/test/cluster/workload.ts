import { randomBytes } from "node:crypto";
import type { FakeReply, FakeRequest } from "@agentd/server/testing";
import { type Cluster, type FollowResult, type Frame, isTerminal, NetworkError, sleep } from "./harness.js";

/*
 * The load the fault tests put on a cluster: runs whose model calls the
 * local tool `lookup` once (answered by the test, as a client would), then
 * answer. The fake provider recognises a run by the tag in its prompt, and
 * answers from the messages alone (tool result there or not), so a run
 * resumed on another worker gets the same answers. Then the checks every
 * fault test makes on every run.
 */

export const MODEL_ID = "provider:fake:f";

export const LOOKUP_TOOL = {
  kind: "local",
  name: "lookup",
  description: "Looks a key up in the caller's table",
  parameters: { type: "object", properties: { key: { type: "string" } }, required: ["key"] },
};

const TERMINAL_STATUSES = new Set(["completed", "failed", "cancelled"]);

export const answerWords = (tag: string): string => `answer ${tag} done`;

export interface ProviderCall {
  tag: string;
  worker: number;
  at: number;
  /** The call after the tool result (the answer), rather than the one making the tool call. */
  answer: boolean;
}

export interface RunHandle {
  index: number;
  tag: string;
  runId?: string;
  /** HTTP status of the POST that created it (202), or what the POST got. */
  createStatus?: number | string;
  result?: FollowResult;
  /** Answers to tool-result POSTs (status or error), for the checks. */
  toolPosts: Array<number | string>;
  following?: Promise<FollowResult>;
}

export interface WorkloadOptions {
  /** Pause between streamed chunks of every model reply, in milliseconds. @default 20 */
  chunkDelayMs?: number;
  /** Words streamed before the tool call and in the answer. @default 6 */
  words?: number;
  /** Per-run bound on reaching a terminal event. @default 120_000 */
  followTimeoutMs?: number;
  /** POST /agent-runs retries 503s until it gets an answer (off to observe them). @default true */
  retryCreate503?: boolean;
}

export class ToolWorkload {
  readonly runs: RunHandle[] = [];
  readonly calls: ProviderCall[] = [];
  /** Statuses of POST /agent-runs that did not create a run (e.g. 503 during an outage). */
  readonly refusedCreates: Array<number | string> = [];
  private readonly suffix = randomBytes(3).toString("hex");
  private readonly pendingPosts = new Set<Promise<void>>();

  constructor(
    private readonly cluster: Cluster,
    private readonly options: WorkloadOptions = {},
  ) {
    cluster.script((request, worker) => this.reply(request, worker));
  }

  private reply(request: FakeRequest, worker: number): FakeReply | undefined {
    const messages = (request.body.messages ?? []) as Array<{ role: string; content: unknown }>;
    const tag = /\brun (t\w+)/.exec(JSON.stringify(messages))?.[1];
    if (!tag) return undefined;
    const toolMessage = messages.find((message) => message.role === "tool");
    this.calls.push({ tag, worker, at: Date.now(), answer: toolMessage !== undefined });
    const chunkDelayMs = this.options.chunkDelayMs ?? 20;
    const filler = Array.from({ length: this.options.words ?? 6 }, (_, index) => `w${index}`).join(" ");
    if (!toolMessage)
      return { text: `checking ${filler}`, toolCalls: [{ id: `lk_${tag}`, name: "lookup", args: { key: tag } }], chunkDelayMs };
    const ok = toolMessage.content === `value-${tag}`;
    return { text: ok ? `${answerWords(tag)} ${filler}` : `WRONG tool result ${JSON.stringify(toolMessage.content)}`, chunkDelayMs };
  }

  /** Creates `count` runs, at most `concurrency` creations at a time; each is followed (and its tool answered) as soon as it exists. */
  async start(count: number, { concurrency = 10 }: { concurrency?: number } = {}): Promise<RunHandle[]> {
    const first = this.runs.length;
    const indices = Array.from({ length: count }, (_, offset) => first + offset);
    for (const index of indices) this.runs.push({ index, tag: `t${index}_${this.suffix}`, toolPosts: [] });
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < indices.length) await this.startOne(this.runs[indices[next++]!]!);
      }),
    );
    return indices.map((index) => this.runs[index]!);
  }

  private async startOne(run: RunHandle): Promise<void> {
    const body = { systemPrompt: "You look things up.", modelId: MODEL_ID, prompt: `run ${run.tag}: look up my key`, tools: [LOOKUP_TOOL] };
    try {
      const response = await this.cluster.createRun(body, run.tag, { retry503: this.options.retryCreate503 ?? true, deadlineMs: 60_000 });
      run.createStatus = response.status;
      if (response.status !== 202) {
        this.refusedCreates.push(response.status);
        return;
      }
      run.runId = response.body.runId as string;
    } catch (error) {
      run.createStatus = `error: ${(error as Error).message}`;
      this.refusedCreates.push(run.createStatus);
      return;
    }
    run.following = this.cluster
      .follow(run.runId, { timeoutMs: this.options.followTimeoutMs ?? 120_000, onFrame: (frame) => this.onFrame(run, frame) })
      .then((result) => (run.result = result));
  }

  private onFrame(run: RunHandle, frame: Frame): void {
    if (frame.type !== "local_tool_call") return;
    const post = this.answer(run, frame.data.toolUseId as string, frame.data.args?.key as string);
    this.pendingPosts.add(post);
    void post.finally(() => this.pendingPosts.delete(post));
  }

  /** POSTs the tool result; a retry after a lost connection may find it already answered (404 unknown_tool_use), which is fine. */
  private async answer(run: RunHandle, toolUseId: string, key: string): Promise<void> {
    try {
      const response = await this.cluster.request(
        "POST",
        `/agent-runs/${run.runId}/tool-results`,
        { toolUseId, result: `value-${key}` },
        { retry503: true, deadlineMs: 90_000 },
      );
      run.toolPosts.push(
        response.status === 404 && response.body?.code !== "unknown_tool_use" ? `404 ${response.body?.code}` : response.status,
      );
    } catch (error) {
      run.toolPosts.push(error instanceof NetworkError ? `network: ${error.message}` : `error: ${(error as Error).message}`);
    }
  }

  /** Runs that reached a terminal event so far. */
  completed(): number {
    return this.runs.filter((run) => run.result?.terminal === true || isTerminal(run.result?.frames.at(-1))).length;
  }

  /** Waits for every follower and tool answer (each bounded by its own timeout). */
  async settle(): Promise<void> {
    await Promise.all(this.runs.map((run) => run.following));
    while (this.pendingPosts.size > 0) await Promise.all([...this.pendingPosts]);
  }

  /** Every check on every created run; returns the failures (empty when all hold). */
  async verify({ expectSuccess = true }: { expectSuccess?: boolean } = {}): Promise<string[]> {
    const perRun = new Map<RunHandle, string[]>();
    const created = this.runs.filter((run) => run.runId);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(8, created.length) }, async () => {
        while (next < created.length) {
          const run = created[next++]!;
          const failures = (await verifyRun(this.cluster, run.runId!, run.result, { tag: run.tag, expectSuccess })).map(
            (failure) => `${run.tag}: ${failure}`,
          );
          const badPosts = run.toolPosts.filter((status) => status !== 200 && status !== 404 && status !== 409);
          if (badPosts.length > 0) failures.push(`${run.tag} (${run.runId}): tool-result POSTs answered ${JSON.stringify(badPosts)}`);
          if (failures.length > 0) {
            const made = this.calls
              .filter((call) => call.tag === run.tag)
              .map((call) => `w${call.worker}:${call.answer ? "answer" : "tool call"}`);
            failures.push(`${run.tag}: model calls ${made.join(", ") || "none"}; tool-result POSTs ${JSON.stringify(run.toolPosts)}`);
            failures.push(`${run.tag}: worker log lines of the run: ${JSON.stringify(this.cluster.grep(run.runId!))}`);
          }
          perRun.set(run, failures);
        }
      }),
    );
    return created.flatMap((run) => perRun.get(run) ?? []);
  }

  /** Histogram of how runs ended: `result:success`, `cancelled`, ... */
  outcomes(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const run of this.runs) {
      const last = run.result?.frames.at(-1);
      const key = !run.runId
        ? `not created (${String(run.createStatus).split(":")[0]})`
        : !isTerminal(last)
          ? "no terminal event"
          : last!.type === "result"
            ? `result:${last!.data.subtype}`
            : last!.type;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }
}

/**
 * The checks on one run: the client's stream (assembled across reconnects)
 * ended with a terminal event and saw no gap or duplicate; every live worker
 * replays the whole stored log, the same; it is seq 1..n with exactly one
 * terminal event, last; the client's stream is that log frame for frame; and
 * (expectSuccess) the run succeeded with the scripted answer.
 */
/**
 * Waits (up to 20 s) until worker `worker` is streaming a model reply (a call it made less than `withinMs` ago):
 * the moment a fault test strikes. False, with a warning, if that never happened.
 */
export async function streamingOn(load: ToolWorkload, worker: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (load.calls.some((call) => call.worker === worker && Date.now() - call.at < withinMs)) return true;
    await sleep(5);
  }
  console.warn(`worker ${worker} had no model call in flight within 20 s; striking anyway`);
  return false;
}

export async function verifyRun(
  cluster: Cluster,
  runId: string,
  followed: FollowResult | undefined,
  { tag, expectSuccess = true }: { tag?: string; expectSuccess?: boolean } = {},
): Promise<string[]> {
  const failures: string[] = [];
  if (followed?.error) failures.push(followed.error);
  if (followed && followed.problems.length > 0) failures.push(`client stream anomalies: ${followed.problems.join("; ")}`);
  if (followed && !followed.terminal) {
    // Not ended (as far as the client knows): say what the server thinks; a replay would not end either.
    const snapshot = await cluster
      .request("GET", `/agent-runs/${runId}`, undefined, { retry503: true })
      .catch((error: Error) => ({ status: 0, body: { error: error.message } }));
    failures.push(
      `snapshot: ${snapshot.status} status=${snapshot.body?.status} pendingToolCalls=${JSON.stringify(snapshot.body?.pendingToolCalls ?? [])}`,
    );
    return failures;
  }
  // Every live worker must replay the whole log, and the same one.
  const logs: Array<{ worker: number; frames: Frame[] }> = [];
  for (const worker of cluster.live()) {
    try {
      logs.push({ worker, frames: (await cluster.readLog(runId, { worker, timeoutMs: 8_000, attemptMs: 8_000 })).frames });
    } catch (error) {
      failures.push(`worker ${worker} does not replay the whole log: ${(error as Error).message}`);
    }
  }
  if (logs.length === 0) return failures;
  const stored = logs[0]!.frames;
  for (const other of logs.slice(1)) {
    const mismatch = firstMismatch(other.frames, stored);
    if (mismatch !== undefined) failures.push(`workers ${other.worker} and ${logs[0]!.worker} replay different logs: ${mismatch}`);
  }
  failures.push(...logProblems(stored).map((problem) => `stored log: ${problem}`));
  if (followed) {
    const assembled = followed.frames;
    const mismatch = firstMismatch(assembled, stored);
    if (mismatch !== undefined) failures.push(`client stream differs from the stored log: ${mismatch}`);
  }
  const terminal = stored.at(-1);
  if (expectSuccess && isTerminal(terminal)) {
    if (terminal!.type !== "result" || terminal!.data.subtype !== "success")
      failures.push(
        `ended with ${terminal!.type} ${terminal!.data.subtype ?? ""} ${terminal!.data.error ? JSON.stringify(terminal!.data.error) : ""}`,
      );
    else if (tag && !String(terminal!.data.text ?? "").includes(answerWords(tag)))
      failures.push(`answer text ${JSON.stringify(terminal!.data.text)} lacks "${answerWords(tag)}"`);
  }
  return failures;
}

/** Gaps, duplicates, and terminal-event problems of a log read from seq 1. */
export function logProblems(frames: Frame[]): string[] {
  const problems: string[] = [];
  frames.forEach((frame, index) => {
    if (frame.seq !== index + 1) problems.push(`frame ${index} has seq ${frame.seq}, expected ${index + 1}`);
  });
  const seqs = frames.map((frame) => frame.seq);
  if (new Set(seqs).size !== seqs.length) problems.push("two events share a seq");
  const terminals = frames.filter(isTerminal).length;
  if (terminals !== 1) problems.push(`${terminals} terminal events`);
  else if (!isTerminal(frames.at(-1))) problems.push("the terminal event is not last");
  return problems.slice(0, 5);
}

function firstMismatch(assembled: Frame[], stored: Frame[]): string | undefined {
  for (let index = 0; index < Math.max(assembled.length, stored.length); index++) {
    const a = assembled[index];
    const b = stored[index];
    if (a?.raw === b?.raw) continue;
    return `frame ${index}: client ${a ? JSON.stringify(a.raw) : "(none)"} vs stored ${b ? JSON.stringify(b.raw) : "(none)"} (client ${assembled.length} frames, stored ${stored.length})`;
  }
  return undefined;
}

/** Unexpected worker exits, one line each (with the end of the worker's output), for an assertion that reads well. */
export function crashes(cluster: Cluster): string[] {
  return cluster.unexpectedExits.map((exit) => {
    const lines = exit.output
      .split("\n")
      .filter((line) => /Error\b|"level":"(error|fatal)"/.test(line) && !line.trimStart().startsWith("at "));
    const summary = lines.slice(-2).map((line) => {
      try {
        const parsed = JSON.parse(line) as { msg?: string; err?: { message?: string } };
        return `${parsed.msg}: ${parsed.err?.message ?? ""}`;
      } catch {
        return line.trim();
      }
    });
    return `worker ${exit.worker} exited (code ${exit.code}, signal ${exit.signal}): ${summary.map((line) => line.slice(0, 300)).join(" | ") || "(no error in its output)"}`;
  });
}

/** Every run of the workspace, through the list API (any worker), newest first. */
export async function listAllRuns(cluster: Cluster): Promise<Array<{ id: string; status: string }>> {
  const runs: Array<{ id: string; status: string }> = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1_000; page++) {
    const query: string = `/agent-runs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const response = await cluster.request("GET", query, undefined, { retry503: true });
    if (response.status !== 200) throw new Error(`GET ${query}: ${response.status} ${JSON.stringify(response.body)}`);
    runs.push(...(response.body.runs as Array<{ id: string; status: string }>));
    cursor = response.body.nextCursor as string | null;
    if (!cursor) break;
  }
  return runs;
}

/** "0 runs lost": every run in the workspace (tracked or not, e.g. created by a retried POST) has a terminal status. */
export async function unfinishedRuns(cluster: Cluster): Promise<string[]> {
  return (await listAllRuns(cluster)).filter((run) => !TERMINAL_STATUSES.has(run.status)).map((run) => `${run.id} is ${run.status}`);
}

/** Waits (bounded) until every listed run is terminal: a snapshot can lag the stream by a commit. */
export async function waitAllTerminal(cluster: Cluster, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await unfinishedRuns(cluster);
    if (open.length === 0 || Date.now() > deadline) return open;
    await sleep(250);
  }
}

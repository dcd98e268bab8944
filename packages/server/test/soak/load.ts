import { randomBytes } from "node:crypto";
import http from "node:http";
import type pg from "pg";
import type { FakeReply, FakeRequest } from "@agentd/server/testing";
import { type Cluster, sleep } from "../cluster/harness.js";
import { LOOKUP_TOOL, MODEL_ID } from "../cluster/workload.js";

/*
 * The soak's load: `streams` clients, each in a loop until the time is up:
 * create a run on one worker (POST /agent-runs), read its SSE stream from a
 * worker (alternately the same and the other one), answer its local tool
 * call after `toolMs` if it makes one (a tool that takes a while, as real
 * ones do: the run is paused meanwhile and holds no worker slot), and start
 * the next run as soon as the terminal event arrives. So `streams` streams
 * are open at (almost) all times.
 *
 * Every finished run is then checked against the stored log, read straight
 * from the run_events table in batches: the frames the client assembled
 * (across reconnects, if any) must be the stored events exactly, seq 1..n,
 * no gap, no duplicate, one terminal event, last, and the run must have
 * succeeded with the scripted answer. Every `replayEvery`-th run is also
 * replayed through the API (`?lastSeq=0`) from the worker the client did not
 * read from. Runs are dropped once checked, so the test process's memory
 * does not grow with the soak's length.
 */

export interface SoakProfile {
  streams: number;
  /** How long clients keep starting runs; then the runs in flight finish (drain). */
  seconds: number;
  /** Pause between the streamed chunks of every model reply. */
  chunkDelayMs: number;
  /** Filler words per model reply (one chunk, so about one assistant_delta event, each). */
  words: number;
  /** Share of runs whose model calls the local tool once (the rest answer at once). */
  toolShare: number;
  /** How long the client's local tool takes before it POSTs the result, on average (uniformly 0.5x to 1.5x). */
  toolMs: number;
  /** Clients start spread over this long. */
  rampMs: number;
  /** Bound on one run, POST to terminal event. */
  runTimeoutMs: number;
  /** Every n-th run is also replayed through the API from another worker (0: never). */
  replayEvery: number;
}

interface Frame {
  seq: number;
  type: string;
  /** `id: n\nevent: type\ndata: {...}` as sent, comments dropped. */
  raw: string;
  data: string;
}

const TERMINAL = new Set(["result", "cancelled"]);

/** Splits a growing SSE text into frames, keeping each frame's text (data is parsed only where needed). */
class FrameParser {
  private buffer = "";
  push(chunk: string, emit: (frame: Frame) => void): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf("\n\n");
    if (end < 0) return;
    let start = 0;
    while (end >= 0) {
      const block = this.buffer.slice(start, end);
      start = end + 2;
      let seq = Number.NaN;
      let type = "";
      let data = "";
      const kept: string[] = [];
      for (const line of block.split("\n")) {
        if (line.length === 0 || line.startsWith(":")) continue;
        kept.push(line);
        if (line.startsWith("id: ")) seq = Number(line.slice(4));
        else if (line.startsWith("event: ")) type = line.slice(7);
        else if (line.startsWith("data: ")) data = line.slice(6);
      }
      if (kept.length > 0) emit({ seq, type, raw: kept.join("\n"), data });
      end = this.buffer.indexOf("\n\n", start);
    }
    this.buffer = this.buffer.slice(start);
  }
}

interface SoakRun {
  tag: string;
  tool: boolean;
  runId?: string;
  postWorker: number;
  readWorker: number;
  toolWorker: number;
  frames: Frame[];
  gaps: number;
  duplicates: number;
  connections: number;
  toolPost?: number | string;
  /** How the last connection ended, when it was not with the terminal event. */
  lastEnd?: string;
  error?: string;
  phase?: Phase;
  postedAt: number;
  createdAt?: number;
  startedAt?: number;
  endedAt?: number;
}

/** Where a client's run is: created but not started by a worker yet, streaming a model reply, or paused on the client's tool. */
export type Phase = "waiting" | "streaming" | "paused";

export interface SoakTotals {
  runsStarted: number;
  runsCompleted: number;
  toolRuns: number;
  /** Stored events found equal, frame for frame, to what the clients assembled. */
  eventsChecked: number;
  /** Stored events a client did not receive. */
  lostEvents: number;
  /** Frames a client received that are not in the stored log at their place (duplicates, phantoms). */
  extraFrames: number;
  /** Seq gaps and duplicates seen by the clients while reading. */
  gaps: number;
  duplicates: number;
  /** Runs whose client stream differs from the stored log in any way. */
  mismatchedRuns: number;
  /** Runs that did not reach a terminal event (or could not be created). */
  unfinishedRuns: number;
  /** Runs that ended other than with a successful result carrying the scripted answer (provider resets aside). */
  notSuccess: number;
  /**
   * Runs ended by `error_model` because the worker's call to the model provider failed with ECONNRESET before any
   * answer: a keep-alive socket reused just as the provider closed it (see the soak's report). Counted apart.
   */
  providerResets: number;
  /** Stream connections beyond the first of each run (a dropped stream resumed with ?lastSeq=). */
  reconnects: number;
  /** Runs whose stream was read from a worker that made none of its model calls (fan-out through Redis). */
  crossWorkerReads: number;
  replaysChecked: number;
  replayMismatches: number;
  /** Runs whose stored log still misses a seq after the drain (a hole in the log). */
  storedGapRuns: number;
}

export class SoakLoad {
  readonly totals: SoakTotals = {
    runsStarted: 0,
    runsCompleted: 0,
    toolRuns: 0,
    eventsChecked: 0,
    lostEvents: 0,
    extraFrames: 0,
    gaps: 0,
    duplicates: 0,
    mismatchedRuns: 0,
    unfinishedRuns: 0,
    notSuccess: 0,
    providerResets: 0,
    reconnects: 0,
    crossWorkerReads: 0,
    replaysChecked: 0,
    replayMismatches: 0,
    storedGapRuns: 0,
  };
  /** The first failures, described (capped). */
  readonly failures: string[] = [];
  /** Suspect runs read again after the drain, described (capped). */
  readonly rechecked: string[] = [];
  /** The first runs ended by a provider reset, described (capped). */
  readonly resets: string[] = [];
  /** SSE responses open right now, per worker read from. */
  readonly openStreams: number[];
  /** Clients between POST /agent-runs and the terminal event. */
  inRun = 0;
  /** Runs in each phase right now. */
  readonly phases: Record<Phase, number> = { waiting: 0, streaming: 0, paused: 0 };
  /** Per completed run: when it was posted (ms since the load started), the POST's latency, POST to its `started` event (the wait for a worker), and POST to its terminal event, in ms. */
  readonly timings: Array<{ at: number; post: number; start: number; total: number }> = [];
  private origin = Date.now();
  /** When clients stopped starting runs (the end of the load; the drain follows). */
  stopAt = 0;
  /** When the last run in flight finished (the end of the drain). */
  drainedAt: number | undefined;

  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4_096 });
  private readonly urls: string[];
  private readonly suffix = randomBytes(3).toString("hex");
  /** Workers that made model calls for a run (bit i: worker i), by tag, until the run is checked. */
  private readonly callers = new Map<string, number>();
  private toCheck: SoakRun[] = [];
  /** Runs to read again after the drain (a stored gap, or unfinished for the client), with why. */
  private readonly suspects = new Map<string, string>();
  private checking: Promise<void> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly db: pg.Pool,
    private readonly profile: SoakProfile,
    private readonly schema = "agentd",
  ) {
    this.urls = cluster.workers.map((worker) => worker.url);
    this.openStreams = this.urls.map(() => 0);
    cluster.script((request, worker) => this.reply(request, worker));
  }

  /** Client sockets to each worker (in use or idle in the keep-alive pool), for the fd checks. */
  clientSockets(): number[] {
    return this.urls.map((url) => {
      // The agent names its pools `host:port:localAddress...`.
      const host = new URL(url).host;
      const count = (pool: NodeJS.ReadOnlyDict<unknown[]>): number =>
        Object.entries(pool)
          .filter(([name]) => name.startsWith(`${host}:`))
          .reduce((sum, [, list]) => sum + (list?.length ?? 0), 0);
      return count(this.agent.sockets) + count(this.agent.freeSockets);
    });
  }

  private reply(request: FakeRequest, worker: number): FakeReply | undefined {
    const messages = (request.body.messages ?? []) as Array<{ role: string; content: unknown }>;
    const user = messages.find((message) => message.role === "user");
    const tag = /\brun (s[pt]\w+)/.exec(typeof user?.content === "string" ? user.content : JSON.stringify(user?.content ?? ""))?.[1];
    if (!tag) return undefined;
    this.callers.set(tag, (this.callers.get(tag) ?? 0) | (1 << worker));
    const chunkDelayMs = this.profile.chunkDelayMs;
    const filler = Array.from({ length: this.profile.words }, (_, index) => `w${index}`).join(" ");
    const toolMessage = messages.find((message) => message.role === "tool");
    if (tag.startsWith("st") && !toolMessage)
      return { text: `checking ${filler}`, toolCalls: [{ id: `lk_${tag}`, name: "lookup", args: { key: tag } }], chunkDelayMs };
    if (toolMessage && toolMessage.content !== `value-${tag}`)
      return { text: `WRONG tool result ${JSON.stringify(toolMessage.content)}`, chunkDelayMs };
    return { text: `answer ${tag} ${filler}`, chunkDelayMs };
  }

  /** Runs the clients until `seconds` are up, then lets the runs in flight finish; checks every run. */
  async run(): Promise<void> {
    const { streams, seconds, rampMs } = this.profile;
    this.origin = Date.now();
    this.stopAt = this.origin + seconds * 1_000;
    const checker = setInterval(() => void this.check(), 500);
    try {
      await Promise.all(
        Array.from({ length: streams }, async (_, client) => {
          await sleep(Math.floor((client / streams) * rampMs));
          for (let iteration = 0; Date.now() < this.stopAt; iteration++) await this.oneRun(client, iteration);
        }),
      );
      this.drainedAt = Date.now();
    } finally {
      clearInterval(checker);
    }
    // Everything finished is checked before returning.
    for (let round = 0; round < 100 && (this.toCheck.length > 0 || this.checking); round++) await this.check();
    await this.recheck();
  }

  /**
   * The runs whose stored log had a gap when read, or that did not finish for their client, read again after
   * the drain: a gap still there is a hole in the log (the store never got that event), not a commit that
   * was not visible yet.
   */
  private async recheck(): Promise<void> {
    if (this.suspects.size === 0) return;
    await sleep(2_000);
    const ids = [...this.suspects.keys()];
    const { rows } = await this.db.query<{
      run_id: string;
      seqs: number[];
      status: string;
      last_seq: number;
      owner_id: string | null;
      lease_epoch: number | null;
    }>(
      `SELECT r.id AS run_id, r.status, r.last_seq, r.owner_id, r.lease_epoch,
              coalesce((SELECT array_agg(e.seq ORDER BY e.seq) FROM ${this.schema}.run_events e WHERE e.run_id = r.id), '{}') AS seqs
       FROM ${this.schema}.runs r WHERE r.id = ANY($1::text[])`,
      [ids],
    );
    for (const row of rows) {
      const present = new Set(row.seqs);
      const max = Math.max(0, ...row.seqs);
      const missing = Array.from({ length: max }, (_, index) => index + 1).filter((seq) => !present.has(seq));
      if (missing.length > 0) this.totals.storedGapRuns++;
      if (this.rechecked.length < 20)
        this.rechecked.push(
          `${row.run_id} (${this.suspects.get(row.run_id)}), after the drain: status ${row.status}, last_seq ${row.last_seq}, ${row.seqs.length} events stored (max seq ${max})${missing.length > 0 ? `, MISSING seq ${missing.slice(0, 10).join(", ")}` : ", no gap"}; lease ${row.owner_id ?? "-"}#${row.lease_epoch ?? "-"}`,
        );
    }
  }

  /** Closes the client's idle keep-alive sockets (after run()). */
  close(): void {
    this.agent.destroy();
  }

  private async oneRun(client: number, iteration: number): Promise<void> {
    const workers = this.urls.length;
    const index = this.totals.runsStarted++;
    const tool = (index * 0.618034) % 1 < this.profile.toolShare; // spread evenly, deterministic
    const postWorker = (client + iteration) % workers;
    // Alternately the worker it was posted to and the next one.
    const readWorker = (postWorker + (iteration % 2 === 0 ? 1 : 0)) % workers;
    const run: SoakRun = {
      tag: `s${tool ? "t" : "p"}${client}_${iteration}_${this.suffix}`,
      tool,
      postWorker,
      readWorker,
      toolWorker: (postWorker + 1) % workers,
      frames: [],
      gaps: 0,
      duplicates: 0,
      connections: 0,
      postedAt: Date.now(),
    };
    if (tool) this.totals.toolRuns++;
    this.inRun++;
    try {
      await this.execute(run);
    } catch (error) {
      run.error = `client error: ${(error as Error).message}`;
    } finally {
      this.inRun--;
      this.setPhase(run, undefined);
    }
    this.toCheck.push(run);
  }

  private setPhase(run: SoakRun, phase: Phase | undefined): void {
    if (run.phase === phase) return;
    if (run.phase) this.phases[run.phase]--;
    if (phase) this.phases[phase]++;
    run.phase = phase;
  }

  private async execute(run: SoakRun): Promise<void> {
    const deadline = Date.now() + this.profile.runTimeoutMs;
    run.runId = await this.create(run, deadline);
    run.createdAt = Date.now();
    if (!run.runId) return;
    this.setPhase(run, "waiting");
    let lastSeq = 0;
    let terminal = false;
    let toolAnswer: Promise<void> | undefined;
    while (!terminal) {
      if (Date.now() > deadline) {
        const tail = run.frames.slice(-3).map((frame) => `${frame.seq}:${frame.type}`);
        run.error = `no terminal event within ${this.profile.runTimeoutMs} ms (last frames ${tail.join(", ") || "none"}; ${run.connections} connections, the last ${run.lastEnd ?? "-"})`;
        break;
      }
      if (run.connections > 0) await sleep(Math.min(100 * run.connections, 1_000));
      run.connections++;
      const end = await this.stream(run.readWorker, run.runId, lastSeq, deadline, (frame) => {
        if (frame.seq === lastSeq + 1) lastSeq = frame.seq;
        else if (frame.seq <= lastSeq) run.duplicates++;
        else {
          run.gaps++;
          lastSeq = frame.seq;
        }
        run.frames.push(frame);
        if (frame.type === "started") {
          run.startedAt ??= Date.now();
          this.setPhase(run, "streaming");
        } else if (frame.type === "local_tool_call") {
          this.setPhase(run, "paused");
          toolAnswer = this.answerTool(run, frame);
        } else if (TERMINAL.has(frame.type)) {
          terminal = true;
          run.endedAt = Date.now();
          this.setPhase(run, undefined);
        }
        return terminal;
      });
      if (!terminal) run.lastEnd = end; // reconnected from lastSeq below, until the deadline
    }
    await toolAnswer;
  }

  /** POST /agent-runs on the run's worker; a connection lost mid-request is resolved by looking the tag up, never by posting twice blindly. */
  private async create(run: SoakRun, deadline: number): Promise<string | undefined> {
    const body = {
      systemPrompt: "You look things up.",
      modelId: MODEL_ID,
      prompt: `run ${run.tag}: look up my key`,
      ...(run.tool ? { tools: [LOOKUP_TOOL] } : {}),
      metadata: { ct: run.tag },
    };
    let lastProblem = "";
    while (Date.now() < deadline) {
      let response: { status: number; body: any };
      try {
        response = await this.request(run.postWorker, "POST", "/agent-runs", body);
      } catch (error) {
        // Created or not? Ask, then decide.
        lastProblem = (error as Error).message;
        const found = await this.request(run.postWorker, "GET", `/agent-runs?metadata=${encodeURIComponent(`ct:${run.tag}`)}`).catch(
          () => undefined,
        );
        const runs = (found?.body?.runs ?? []) as Array<{ id: string }>;
        if (found?.status === 200 && runs.length > 0) return runs[0]!.id;
        await sleep(200);
        continue;
      }
      if (response.status === 202) return response.body.runId as string;
      lastProblem = `answered ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`;
      if (response.status !== 503) break;
      await sleep(200);
    }
    run.error = `POST /agent-runs: ${lastProblem || "no answer before the run's deadline"}`;
    return undefined;
  }

  /** One JSON request to `worker` on the client's keep-alive agent; rejects when the connection fails or no answer comes in `timeoutMs`. */
  private request(
    worker: number,
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 30_000,
  ): Promise<{ status: number; body: any }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.urls[worker]}/api/v1/workspaces/${this.cluster.workspace}${path}`,
        {
          method,
          agent: this.agent,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${this.cluster.key}`,
            ...(payload !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (error: NodeJS.ErrnoException) =>
        reject(new Error(`${method} ${path} on worker ${worker}: ${error.code ?? error.message}`)),
      );
      req.end(payload);
    });
  }

  /** The client's local tool: takes `toolMs`, then POSTs the result (200; 404/409 only after a retry whose first attempt landed). */
  private async answerTool(run: SoakRun, frame: Frame): Promise<void> {
    const call = JSON.parse(frame.data) as { toolUseId: string; args?: { key?: string } };
    await sleep(Math.round(this.profile.toolMs * (0.5 + Math.random())));
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.request(run.toolWorker, "POST", `/agent-runs/${run.runId}/tool-results`, {
          toolUseId: call.toolUseId,
          result: `value-${call.args?.key}`,
        });
        run.toolPost = attempt > 0 && (response.status === 404 || response.status === 409) ? 200 : response.status;
        if (run.toolPost === 200 && run.phase === "paused") this.setPhase(run, "streaming");
        if (response.status !== 503 || Date.now() > deadline) return;
      } catch (error) {
        run.toolPost = `error: ${(error as Error).message}`;
        if (Date.now() > deadline) return;
      }
      await sleep(200);
    }
  }

  /** One SSE connection to `worker` from `lastSeq`; resolves with how it ended: "terminal", "closed", "status n", "error: ...", "deadline". */
  private stream(worker: number, runId: string, lastSeq: number, deadline: number, onFrame: (frame: Frame) => boolean): Promise<string> {
    const path = `/api/v1/workspaces/${this.cluster.workspace}/agent-runs/${runId}/stream?lastSeq=${lastSeq}`;
    return new Promise<string>((resolve) => {
      let settled = false;
      let counted = false;
      const finish = (end: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(end);
      };
      const timer = setTimeout(
        () => {
          finish("deadline");
          req.destroy();
        },
        Math.max(0, deadline - Date.now()),
      );
      const req = http.get(
        this.urls[worker] + path,
        { agent: this.agent, headers: { authorization: `Bearer ${this.cluster.key}`, accept: "text/event-stream" } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return finish(`status ${res.statusCode}`);
          }
          this.openStreams[worker]!++;
          counted = true;
          const uncount = (): void => {
            if (!counted) return;
            counted = false;
            this.openStreams[worker]!--;
          };
          const parser = new FrameParser();
          let done = false;
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            if (done) return;
            parser.push(chunk, (frame) => {
              if (done) return;
              if (onFrame(frame)) {
                done = true;
                // The server ends the response right after the terminal event: the socket goes back to the pool.
                uncount();
                finish("terminal");
              }
            });
          });
          res.on("end", () => {
            uncount();
            finish("closed");
          });
          res.on("close", () => {
            uncount();
            finish("closed");
          });
          res.on("error", (error) => {
            uncount();
            finish(`error: ${error.message}`);
          });
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => finish(`error: ${error.code ?? error.message}`));
    });
  }

  /** A full replay (?lastSeq=0) from `worker`, as raw frames. */
  private async replay(worker: number, runId: string): Promise<{ frames: string[]; end: string }> {
    const frames: string[] = [];
    const end = await this.stream(worker, runId, 0, Date.now() + 20_000, (frame) => {
      frames.push(frame.raw);
      return TERMINAL.has(frame.type);
    });
    return { frames, end };
  }

  private fail(message: string): void {
    if (this.failures.length < 20) this.failures.push(message);
  }

  /** Checks the runs finished so far against the stored log (one query per batch). */
  private check(): Promise<void> {
    if (this.checking) return this.checking;
    if (this.toCheck.length === 0) return Promise.resolve();
    this.checking = this.checkBatch().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkBatch(): Promise<void> {
    const batch = this.toCheck.splice(0, 500);
    const ids = batch.filter((run) => run.runId).map((run) => run.runId!);
    const stored = new Map<string, string[]>();
    try {
      const { rows } = await this.db.query<{ run_id: string; seq: number; type: string; data: string }>(
        `SELECT run_id, seq, type, data FROM ${this.schema}.run_events WHERE run_id = ANY($1::text[]) ORDER BY run_id, seq`,
        [ids],
      );
      for (const row of rows) {
        let list = stored.get(row.run_id);
        if (!list) stored.set(row.run_id, (list = []));
        list.push(`id: ${row.seq}\nevent: ${row.type}\ndata: ${row.data}`);
        if (row.seq !== list.length && !this.suspects.has(row.run_id) && this.suspects.size < 100)
          this.suspects.set(row.run_id, `stored seq ${row.seq} at position ${list.length}`);
      }
    } catch (error) {
      // The check itself failed (not the server): try this batch again later.
      this.toCheck.unshift(...batch);
      this.fail(`reading run_events failed (retried): ${(error as Error).message}`);
      await sleep(1_000);
      return;
    }
    const replays: Array<Promise<void>> = [];
    for (const run of batch) {
      const callers = this.callers.get(run.tag) ?? 0;
      this.callers.delete(run.tag);
      this.totals.reconnects += Math.max(0, run.connections - 1);
      this.totals.gaps += run.gaps;
      this.totals.duplicates += run.duplicates;
      if (run.gaps + run.duplicates > 0) this.fail(`${run.tag} (${run.runId}): ${run.gaps} gaps, ${run.duplicates} duplicates`);
      const last = run.frames.at(-1);
      if (!run.runId || run.error || !last || !TERMINAL.has(last.type)) {
        this.totals.unfinishedRuns++;
        if (run.runId && !this.suspects.has(run.runId) && this.suspects.size < 100)
          this.suspects.set(run.runId, `unfinished for the client`);
        this.fail(`${run.tag} (${run.runId ?? "not created"}): ${run.error ?? "no terminal event"}`);
        continue;
      }
      this.totals.runsCompleted++;
      if (run.startedAt !== undefined && run.endedAt !== undefined && run.createdAt !== undefined)
        this.timings.push({
          at: run.postedAt - this.origin,
          post: run.createdAt - run.postedAt,
          start: run.startedAt - run.postedAt,
          total: run.endedAt - run.postedAt,
        });
      if (callers !== 0 && (callers & (1 << run.readWorker)) === 0) this.totals.crossWorkerReads++;
      const log = stored.get(run.runId) ?? [];
      let equal = log.length === run.frames.length;
      let matched = 0;
      const received = new Set<string>();
      for (let index = 0; index < run.frames.length; index++) {
        received.add(run.frames[index]!.raw);
        if (run.frames[index]!.raw !== log[index]) equal = false;
      }
      for (const frame of log) if (received.has(frame)) matched++;
      this.totals.lostEvents += log.length - matched;
      this.totals.extraFrames += run.frames.length - matched;
      if (equal) this.totals.eventsChecked += log.length;
      else {
        this.totals.mismatchedRuns++;
        const at = run.frames.findIndex((frame, index) => frame.raw !== log[index]);
        this.fail(
          `${run.tag} (${run.runId}): client stream (${run.frames.length} frames) differs from the stored log (${log.length} events) at frame ${at < 0 ? run.frames.length : at}`,
        );
      }
      const terminals = log.filter((frame) => /\nevent: (result|cancelled)\n/.test(frame)).length;
      if (terminals !== 1 || !TERMINAL.has(last.type)) this.fail(`${run.tag} (${run.runId}): ${terminals} terminal events stored`);
      let outcome: { type?: string; subtype?: string; text?: string; error?: unknown } = {};
      try {
        outcome = JSON.parse(last.data) as typeof outcome;
      } catch {
        // reported below
      }
      const ok = last.type === "result" && outcome.subtype === "success" && String(outcome.text ?? "").includes(`answer ${run.tag}`);
      const toolOk = !run.tool || run.toolPost === 200;
      const reset =
        last.type === "result" &&
        outcome.subtype === "error_model" &&
        /ECONNRESET|socket hang up/.test(JSON.stringify(outcome.error ?? ""));
      if (reset) {
        this.totals.providerResets++;
        if (this.resets.length < 5)
          this.resets.push(
            `${run.tag} (${run.runId}), model calls by workers ${callers.toString(2)}: ${JSON.stringify(outcome.error).slice(0, 200)}`,
          );
      } else if (!ok || !toolOk) {
        this.totals.notSuccess++;
        this.fail(
          `${run.tag} (${run.runId}): ended ${last.type} ${outcome.subtype ?? ""} ${JSON.stringify(outcome.text ?? "").slice(0, 120)}${outcome.error ? ` ${JSON.stringify(outcome.error).slice(0, 300)}` : ""}; tool-result POST ${run.toolPost ?? "-"}; model calls by workers ${callers.toString(2)}`,
        );
      }
      if (this.profile.replayEvery > 0 && this.totals.runsCompleted % this.profile.replayEvery === 0) {
        const worker = (run.readWorker + 1) % this.urls.length;
        replays.push(
          this.replay(worker, run.runId).then(({ frames, end }) => {
            this.totals.replaysChecked++;
            if (frames.length !== log.length || frames.some((frame, index) => frame !== log[index])) {
              this.totals.replayMismatches++;
              this.fail(
                `${run.tag} (${run.runId}): replay from worker ${worker} (${frames.length} frames, ${end}) differs from the stored log (${log.length})`,
              );
            }
          }),
        );
      }
    }
    await Promise.all(replays);
  }
}

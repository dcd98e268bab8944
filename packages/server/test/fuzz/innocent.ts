import { Agent, request as httpRequest } from "node:http";
import { parseSse } from "../helpers.js";

/**
 * Workspace B's valid traffic while A is fuzzed: runs with the mock model
 * read to completion, a session turn now and then, listings. Every
 * deviation is a failure of B: the fuzz of one workspace must not cost
 * another anything.
 */
export interface InnocentTraffic {
  /** Resolves when `stop()` was called and at least `minRuns` runs finished. */
  done: Promise<void>;
  stop(): void;
  stats(): { runs: number; requests: number; failures: string[] };
}

export function innocentTraffic(options: { origin: URL; workspace: string; key: string; minRuns: number; workers: number; timeoutMs: number }): InnocentTraffic {
  const agent = new Agent({ keepAlive: true, maxSockets: options.workers * 2 });
  const base = `/api/v1/workspaces/${options.workspace}`;
  const failures: string[] = [];
  let runs = 0;
  let requests = 0;
  let stopping = false;
  let counter = 0;

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; type: string }> =>
    new Promise((resolve, reject) => {
      requests++;
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = httpRequest(
        {
          agent,
          host: options.origin.hostname,
          port: Number(options.origin.port),
          method,
          path: base + path,
          headers: { authorization: `Bearer ${options.key}`, ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}), ...headers },
          timeout: options.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), type: String(res.headers["content-type"] ?? "") }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });

  const expect = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
    return ok;
  };

  /** One run: create, read its stream to the end, read the snapshot. */
  const oneRun = async (worker: number): Promise<void> => {
    const n = counter++;
    const prompt = `innocent ${worker} ${n}`;
    const created = await call("POST", "/agent-runs", { systemPrompt: "You are B.", modelId: "mock", prompt, metadata: { n: String(n) } }, { "idempotency-key": `b-${n}` });
    if (!expect(created.status === 202, `POST /agent-runs → ${created.status} ${created.text.slice(0, 200)}`)) return;
    const { runId } = JSON.parse(created.text) as { runId: string };
    const stream = await call("GET", `/agent-runs/${runId}/stream`, undefined, { accept: "text/event-stream" });
    if (!expect(stream.status === 200 && stream.type.startsWith("text/event-stream"), `GET stream ${runId} → ${stream.status} ${stream.text.slice(0, 200)}`)) return;
    const frames = parseSse(stream.text);
    const seqs = frames.map((frame) => frame.data?.seq as number);
    const last = frames.at(-1)?.data as { type?: string; subtype?: string; text?: string } | undefined;
    expect(
      seqs.every((seq, i) => seq === i + 1),
      `stream ${runId}: seq not 1..n without gaps: ${seqs.join(",")}`,
    );
    expect(last?.type === "result" && last.subtype === "success" && last.text === `[mock] You said: ${prompt}`, `stream ${runId} ended with ${JSON.stringify(last).slice(0, 200)}`);
    const snapshot = await call("GET", `/agent-runs/${runId}`);
    const body = snapshot.status === 200 ? (JSON.parse(snapshot.text) as { status?: string; text?: string; metadata?: Record<string, string> }) : undefined;
    expect(body?.status === "completed" && body.text === `[mock] You said: ${prompt}` && body.metadata?.n === String(n), `GET ${runId} → ${snapshot.status} ${snapshot.text.slice(0, 200)}`);
    // The retry of the create (same key, same body) answers the same run.
    if (n % 10 === 0) {
      const again = await call("POST", "/agent-runs", { systemPrompt: "You are B.", modelId: "mock", prompt, metadata: { n: String(n) } }, { "idempotency-key": `b-${n}` });
      expect(again.status === 202 && (JSON.parse(again.text) as { runId?: string }).runId === runId, `idempotent retry of ${runId} → ${again.status} ${again.text.slice(0, 200)}`);
    }
    runs++;
  };

  const oneSession = async (): Promise<void> => {
    const created = await call("POST", "/agent-sessions", { systemPrompt: "You are B.", modelId: "mock" });
    if (!expect(created.status === 201, `POST /agent-sessions → ${created.status} ${created.text.slice(0, 200)}`)) return;
    const { sessionId } = JSON.parse(created.text) as { sessionId: string };
    const sent = await call("POST", `/agent-sessions/${sessionId}/messages`, { prompt: "hi" });
    if (!expect(sent.status === 202, `POST messages → ${sent.status} ${sent.text.slice(0, 200)}`)) return;
    const { runId } = JSON.parse(sent.text) as { runId: string };
    const stream = await call("GET", `/agent-runs/${runId}/stream`);
    const last = parseSse(stream.text).at(-1)?.data as { type?: string; subtype?: string } | undefined;
    expect(last?.type === "result" && last.subtype === "success", `session run ${runId} ended with ${JSON.stringify(last).slice(0, 200)}`);
    const ended = await call("DELETE", `/agent-sessions/${sessionId}`);
    expect(ended.status === 200, `DELETE session → ${ended.status}`);
  };

  const oneList = async (): Promise<void> => {
    const page = await call("GET", "/agent-runs?limit=5&status=completed");
    expect(page.status === 200 && Array.isArray((JSON.parse(page.text) as { runs?: unknown }).runs), `GET /agent-runs → ${page.status} ${page.text.slice(0, 200)}`);
  };

  const worker = async (index: number): Promise<void> => {
    for (let i = 0; !stopping || runs < options.minRuns; i++) {
      try {
        if (i % 25 === 24) await oneSession();
        else if (i % 10 === 9) await oneList();
        else await oneRun(index);
      } catch (error) {
        failures.push(`B request failed: ${(error as Error).message}`);
      }
      if (failures.length > 50) return;
    }
  };

  const done = Promise.all(Array.from({ length: options.workers }, (_, i) => worker(i))).then(() => agent.destroy());
  return {
    done,
    stop: () => {
      stopping = true;
    },
    stats: () => ({ runs, requests, failures }),
  };
}

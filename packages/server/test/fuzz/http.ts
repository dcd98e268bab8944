import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { jsonText } from "./json-text.js";

export type Body = { kind: "json"; value: unknown } | { kind: "text"; text: string } | { kind: "bytes"; bytes: number[]; label: string };

/** One request as generated: plain data, printed as it is when it fails. */
export interface FuzzRequest {
  /** The OpenAPI operation it was generated from (`POST /api/v1/workspaces/{workspace}/agent-runs`). */
  route: string;
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Body;
  /** Sent with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
  /** Written to a socket of its own as these bytes instead (requests node:http refuses to send). */
  raw?: { label: string; bytes: () => Buffer; expectResponse: boolean };
  /** The mutations applied, for the report and the statistics. */
  tags: string[];
  /** The key sent is not one of the workspace in the path: anything but an error is a hole. */
  unauthorized?: boolean;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text (the first MiB), or undefined when none arrived. */
  text: string;
  /** A stream the fuzz stopped reading after a while. */
  streamCut?: boolean;
}

type Result = { ok: true; response: FuzzResponse } | { ok: false; error: string };
export type Outcome = Result & { ms: number };

const KEEP = 1 << 20;

export function bodyBytes(body: Body | undefined): Buffer | undefined {
  if (body === undefined) return undefined;
  if (body.kind === "json") return Buffer.from(jsonText(body.value), "utf8");
  if (body.kind === "text") return Buffer.from(body.text, "utf8");
  return Buffer.from(body.bytes);
}

export interface Sender {
  send(request: FuzzRequest): Promise<Outcome>;
  close(): void;
}

/** Real HTTP over keep-alive sockets; a 200 event stream is read for `streamMs`, then dropped. */
export function sender(origin: URL, options: { concurrency: number; timeoutMs: number; streamMs: number }): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const port = Number(origin.port);
  const host = origin.hostname;

  const viaHttp = (req: FuzzRequest): Promise<Outcome> => {
    const started = performance.now();
    const done = (outcome: Result): Outcome => ({ ...outcome, ms: performance.now() - started });
    return new Promise<Outcome>((resolve) => {
      let payload: Buffer | undefined;
      try {
        payload = bodyBytes(req.body);
      } catch (error) {
        resolve(done({ ok: false, error: `client refused: the body does not render: ${(error as Error).message}` }));
        return;
      }
      const headers: Record<string, string | string[]> = { ...req.headers };
      if (payload !== undefined) {
        // Explicit framing either way: node:http would otherwise send a GET's body unframed.
        if (req.chunked) headers["transfer-encoding"] = "chunked";
        else headers["content-length"] = String(payload.length);
      }
      let settled = false;
      const finish = (outcome: Result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(done(outcome));
      };
      let client: ReturnType<typeof httpRequest>;
      try {
        client = httpRequest({ agent, host, port, method: req.method, path: req.path, headers });
      } catch (error) {
        // node:http refused to send it: the generator made something it should have sent raw.
        resolve(done({ ok: false, error: `client refused: ${(error as Error).message}` }));
        return;
      }
      const timer = setTimeout(() => {
        finish({ ok: false, error: `no answer within ${options.timeoutMs} ms` });
        client.destroy();
      }, options.timeoutMs);
      client.on("response", (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const isStream = String(res.headers["content-type"] ?? "").startsWith("text/event-stream");
        let cut = false;
        const answer = () => finish({ ok: true, response: { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8"), ...(cut ? { streamCut: true } : {}) } });
        if (isStream) {
          setTimeout(() => {
            cut = true;
            answer();
            res.destroy();
          }, options.streamMs).unref();
        }
        res.on("data", (chunk: Buffer) => {
          if (kept < KEEP) chunks.push(chunk);
          kept += chunk.length;
        });
        res.on("end", answer);
        res.on("error", (error) => (cut ? undefined : finish({ ok: false, error: `response: ${(error as NodeJS.ErrnoException).code ?? ""} ${error.message}` })));
        res.on("aborted", () => (cut ? undefined : finish({ ok: false, error: "response aborted by the server" })));
      });
      client.on("error", (error) => finish({ ok: false, error: `${(error as NodeJS.ErrnoException).code ?? ""} ${error.message}`.trim() }));
      if (payload === undefined) {
        client.end();
      } else if (req.chunked) {
        // A few chunks, as a streaming client would send them.
        const step = Math.max(1, Math.ceil(payload.length / 3));
        for (let at = 0; at < payload.length; at += step) client.write(payload.subarray(at, at + step));
        client.end();
      } else {
        client.end(payload);
      }
    });
  };

  const viaSocket = (req: FuzzRequest): Promise<Outcome> => {
    const started = performance.now();
    const raw = req.raw!;
    return new Promise<Outcome>((resolve) => {
      const socket = connect(port, host);
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (outcome: Result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ ...outcome, ms: performance.now() - started });
      };
      const parsed = () => parseRawResponse(Buffer.concat(chunks));
      const timer = setTimeout(() => {
        const response = parsed();
        if (response) finish({ ok: true, response });
        else if (!raw.expectResponse) finish({ ok: true, response: { status: 0, headers: {}, text: "" } });
        else finish({ ok: false, error: `no answer within ${options.timeoutMs} ms (${chunks.length} chunks)` });
      }, raw.expectResponse ? options.timeoutMs : 1_000);
      socket.on("connect", () => {
        try {
          // Half-closed only after the server has had time to begin: node aborts a
          // request whose client sends FIN before its response starts (an event
          // stream with nothing to replay holds its headers for 20 ms).
          socket.write(raw.bytes());
          setTimeout(() => socket.end(), 200).unref();
        } catch (error) {
          finish({ ok: false, error: `client refused: the request does not render: ${(error as Error).message}` });
        }
      });
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        const response = parsed();
        if (response && response.complete) finish({ ok: true, response });
      });
      const closed = (error?: Error) => {
        const response = parsed();
        if (response) finish({ ok: true, response });
        else if (!raw.expectResponse) finish({ ok: true, response: { status: 0, headers: {}, text: "" } });
        else finish({ ok: false, error: error ? `${(error as NodeJS.ErrnoException).code ?? ""} ${error.message}` : "connection closed without an answer" });
      };
      socket.on("error", closed);
      socket.on("close", () => closed());
    });
  };

  return {
    send: (req) => (req.raw ? viaSocket(req) : viaHttp(req)),
    close: () => agent.destroy(),
  };
}

/** The first response on a raw socket: status line, headers, and the body Content-Length says (or all there is). */
function parseRawResponse(data: Buffer): (FuzzResponse & { complete: boolean }) | undefined {
  // Past any interim `100 Continue`.
  while (/^HTTP\/1\.[01] 1\d\d /.test(data.subarray(0, 13).toString("latin1"))) {
    const interim = data.indexOf("\r\n\r\n");
    if (interim < 0) return undefined;
    data = data.subarray(interim + 4);
  }
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const head = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? "");
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = data.subarray(end + 4);
  if (/\bchunked\b/i.test(headers["transfer-encoding"] ?? "")) {
    const { text, complete } = dechunk(body);
    return { status: Number(status[1]), headers, text, complete };
  }
  const length = headers["content-length"] !== undefined ? Number(headers["content-length"]) : undefined;
  const complete = length !== undefined && body.length >= length;
  return { status: Number(status[1]), headers, text: body.subarray(0, length ?? body.length).toString("utf8"), complete };
}

/** A chunked body so far: the data of its chunks, complete once the last (empty) chunk arrived. */
function dechunk(data: Buffer): { text: string; complete: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size)) break;
    if (size === 0) return { text: Buffer.concat(parts).toString("utf8"), complete: true };
    if (data.length < lineEnd + 2 + size) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return { text: Buffer.concat(parts).toString("utf8"), complete: false };
}

import { lookup as dnsLookup } from "node:dns";
import type { IncomingMessage } from "node:http";
import type { HttpToolRef } from "@agentd/protocol";
import { ToolError, type ServerTool, type ToolContext } from "../types.js";
import type { OutboundAllowlist } from "./allowlist.js";
import { secretReferences } from "../provenance.js";
import { appendQuery, defaultParameters, fillUrl, parseHttpUrl, resolveHeaders } from "./arguments.js";
import type { Resolver } from "./guard.js";
import { requestHostRefusal, templateHostProblem, type RequestAllowlist } from "./request-allow.js";
import { readBody, send, type Hop } from "./request.js";
import { Redactor, withoutCredentials } from "./secrets.js";

export interface HttpToolOptions {
  /** Private destinations allowed anyway (`allowlistFromEnv(env.AGENTD_HTTP_ALLOW)`). */
  allow: OutboundAllowlist;
  /** Where `{ env }` header values are read, at each call. */
  env: Record<string, string | undefined>;
  /** Response body bytes kept; the rest is not read. @default 1_048_576 */
  maxResponseBytes?: number;
  /** Timeout of a whole call, redirects and body included, in milliseconds, when the ref gives none. @default 30_000 */
  defaultTimeoutMs?: number;
  /** Redirects followed per call. @default 5 */
  maxRedirects?: number;
  /** Hostname resolution; tests inject one. @default dns.lookup */
  lookup?: Resolver;
  /**
   * Set for a tool defined in a request, not in the server config
   * (tools/provenance.ts): the only hosts it may reach, checked before every
   * request it sends, each redirect included. Such a tool may not read the
   * environment nor have a placeholder in its host (createHttpTool throws).
   * The SSRF guard (`allow`) applies on top, as for every tool.
   */
  requestAllow?: RequestAllowlist;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// 500 characters of UTF-8 are at most 2,000 bytes.
const ERROR_BODY_BYTES = 2_000;

/**
 * A server tool that calls the HTTP endpoint `ref` describes, through the
 * SSRF guard. Throws for a URL template that is not http(s), and for a
 * request-defined tool (`options.requestAllow`) that reads the environment
 * or whose host is a placeholder.
 */
export function createHttpTool(ref: HttpToolRef, options: HttpToolOptions): ServerTool {
  if (!parseHttpUrl(ref.url.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, "x"))) {
    throw new Error(`http tool "${ref.name}": url must be an http: or https: URL, got ${withoutCredentials(ref.url)}`);
  }
  if (options.requestAllow) {
    // validate() refuses these when a run is created; this catches a stored run resumed after the config changed.
    const [secret] = secretReferences(ref);
    if (secret) throw new Error(`http tool "${ref.name}": ${secret.path} ${secret.message}`);
    const problem = templateHostProblem(ref.url);
    if (problem) throw new Error(`http tool "${ref.name}": ${problem}`);
  }
  const maxBytes = options.maxResponseBytes ?? 1_048_576;
  const timeoutMs = ref.timeoutMs ?? options.defaultTimeoutMs ?? 30_000;
  const call = { allow: options.allow, resolve: options.lookup ?? dnsLookup, maxBytes, maxRedirects: options.maxRedirects ?? 5, requestAllow: options.requestAllow };
  return {
    name: ref.name,
    // Credentials in the URL (https://user:pass@host) are not the model's business.
    description: ref.description ?? `${ref.method} ${withoutCredentials(ref.url)}`,
    parameters: ref.parameters ?? defaultParameters(ref.url),
    async execute(args, context) {
      let redactor = new Redactor([]);
      try {
        const { url, rest } = fillUrl(ref.url, args);
        const { headers, originBound, secrets } = resolveHeaders(ref.headers, options.env);
        redactor = new Redactor([...secrets, ...urlCredentials(url)]);
        headers["user-agent"] ??= "agentd";
        let body: Buffer | undefined;
        if (BODY_METHODS.has(ref.method)) {
          if (Object.keys(rest).length > 0) {
            body = Buffer.from(JSON.stringify(rest));
            headers["content-type"] ??= "application/json";
          }
        } else appendQuery(url, rest);
        const hop = { url, method: ref.method, headers, body };
        return await withDeadline(timeoutMs, context, (signal) => follow(hop, originBound, { ...call, signal, redactor }));
      } catch (error) {
        // Whatever the remote side put in an error (a body, a Location) passes
        // through the redactor; a redacted error does not keep the original
        // as its cause, so no log line can print it either. Abort reasons are
        // the run's, passed on as they are.
        if (error instanceof ToolError) {
          const message = redactor.redact(error.message);
          if (message !== error.message) throw new ToolError(message);
        }
        throw error;
      }
    },
  };
}

/** The credentials of a URL's userinfo (sent as Basic auth), in the forms a server may echo them. */
function urlCredentials(url: URL): string[] {
  if (!url.username && !url.password) return [];
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const pair = `${decode(url.username)}:${decode(url.password)}`;
  return [decode(url.username), decode(url.password), pair, Buffer.from(pair).toString("base64")];
}

/** Runs `work` with a signal aborted by the timeout or the context; maps the outcome to what the model sees. */
async function withDeadline<T>(timeoutMs: number, context: ToolContext, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (context.signal.aborted) throw context.signal.reason;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ToolError(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const onAbort = () => controller.abort(context.signal.reason);
  context.signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await work(controller.signal);
  } catch (error) {
    // Whatever error the abort surfaced as (AbortError, ECONNRESET), report why.
    if (controller.signal.aborted) throw controller.signal.reason;
    if (error instanceof ToolError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ToolError(`request failed: ${code ?? (error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener("abort", onAbort);
  }
}

type CallOptions = {
  allow: OutboundAllowlist;
  resolve: Resolver;
  maxBytes: number;
  maxRedirects: number;
  signal: AbortSignal;
  requestAllow: RequestAllowlist | undefined;
  redactor: Redactor;
};

/** Sends the request, following redirects by hand so each target goes through the guard (and a request-defined tool's host list) again. */
async function follow(first: Hop, originBound: Set<string>, options: CallOptions): Promise<string> {
  let hop = first;
  for (let redirects = 0; ; redirects++) {
    if (options.requestAllow) {
      const refused = requestHostRefusal(options.requestAllow, hop.url);
      if (refused) throw new ToolError(redirects === 0 ? refused : `${first.url.host} redirected to another host: ${refused}`);
    }
    const response = await send(hop, options);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (REDIRECTS.has(status) && location) {
      response.destroy();
      if (redirects >= options.maxRedirects) throw new ToolError(`too many redirects (more than ${options.maxRedirects}) from ${first.url.host}`);
      hop = redirected(hop, status, location, originBound);
      continue;
    }
    if (status >= 400) {
      const { body, truncated } = await readBody(response, Math.min(ERROR_BODY_BYTES, options.maxBytes));
      // Redacted before the cut to 500 characters, so the cut cannot leave half a secret.
      throw new ToolError(`HTTP ${status} from ${hop.url.host}: ${options.redactor.redact(body.toString("utf8"), truncated).slice(0, 500)}`);
    }
    return render(response, await readBody(response, options.maxBytes), options.maxBytes, options.redactor);
  }
}

/** The next hop of a redirect, per RFC 9110 §15.4 and what browsers do. */
function redirected(hop: Hop, status: number, location: string, originBound: Set<string>): Hop {
  const url = parseHttpUrl(location, hop.url);
  if (!url) throw new ToolError(`${hop.url.host} redirected to ${location}, which is not an http(s) URL`);
  const headers = { ...hop.headers };
  // Secrets were meant for the configured origin, not wherever it points us.
  if (url.origin !== hop.url.origin) for (const name of originBound) delete headers[name];
  // 303 always, and 301/302 after a POST, turn into a GET without the body.
  if (status === 303 || ((status === 301 || status === 302) && hop.method === "POST")) {
    delete headers["content-type"];
    return { url, method: "GET", headers, body: undefined };
  }
  return { url, method: hop.method, headers, body: hop.body };
}

function render(response: IncomingMessage, { body, truncated }: { body: Buffer; truncated: boolean }, maxBytes: number, redactor: Redactor): string {
  let text = body.toString("utf8");
  // JSON is re-emitted compact: the model pays per token for the indentation.
  if (!truncated && /[/+]json\s*(;|$)/i.test(response.headers["content-type"] ?? "")) {
    try {
      text = JSON.stringify(JSON.parse(text));
    } catch {
      // Not valid JSON after all: give the text as it came.
    }
  }
  // After the re-emission, which may have turned an escaped echo back into the plain value.
  text = redactor.redact(text, truncated);
  return truncated ? `${text}\n[truncated at ${maxBytes} bytes]` : text;
}

import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { AgentdError } from "../errors.js";
import type { Context } from "./context.js";
import { illFormedString, tooDeep } from "../json-depth.js";

/** A `\uD800`-`\uDFFF` escape in JSON text: only then can a parsed string hold a lone surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Bodies already read, by request: a middleware that needs the body before
 * the route (the Idempotency-Key fingerprint) and the route then share one read.
 */
const bodies = new WeakMap<IncomingMessage, Promise<string>>();

/** Reads the request body up to `limit` bytes; past it, 413 without reading further. A second call answers the same text. */
export function readBody(ctx: Context, limit: number): Promise<string> {
  const read = bodies.get(ctx.req);
  if (read !== undefined) return read.then((text) => (Buffer.byteLength(text) > limit ? Promise.reject(tooLarge(limit)) : text));
  const body = readOnce(ctx, limit);
  bodies.set(ctx.req, body);
  return body;
}

function readOnce(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    ctx.req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        ctx.req.removeAllListeners("data");
        ctx.req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    ctx.req.on("end", () => resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    // The client went away mid-body (node says "aborted"): its own 400, nothing for the error log.
    ctx.req.on("error", (error) =>
      reject(new AgentdError("invalid_request", "the request body was not received whole: the connection closed", { cause: error })),
    );
  });
}

/** What a JSON body may be: its size in bytes, and how deeply its arrays and objects nest. */
export interface BodyLimits {
  maxBodyBytes: number;
  /** Containers nested in one another, the body itself counting as 1. */
  maxJsonDepth: number;
}

/**
 * Parses and validates a JSON body; every problem names its field. The
 * nesting depth is checked right after JSON.parse (which is not recursive in
 * V8) and before anything recursive sees the value: validation, JSON
 * Schema compilation and the store's JSON.stringify would overflow the stack
 * on a body nested a few thousand levels deep.
 */
export async function parseJson<S extends z.ZodType>(ctx: Context, schema: S, limits: BodyLimits, options: { optional?: boolean } = {}): Promise<z.infer<S>> {
  const limit = limits.maxBodyBytes;
  const contentType = ctx.req.headers["content-type"];
  if (contentType !== undefined && !/^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType)) {
    throw new AgentdError("unsupported_media_type", `Content-Type must be application/json (got ${contentType})`);
  }
  const text = await readBody(ctx, limit);
  let value: unknown;
  if (text.trim().length === 0) {
    if (!options.optional) throw new AgentdError("invalid_json", "the request body is empty; send a JSON object");
    value = {};
  } else {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new AgentdError("invalid_json", `the request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  const deep = tooDeep(value, limits.maxJsonDepth);
  if (deep !== undefined) {
    const message = `nested more than ${limits.maxJsonDepth} levels deep`;
    throw new AgentdError("invalid_request", `${deep}: ${message}`, { issues: [{ path: deep, message }] });
  }
  // A lone surrogate (`"\ud800"`) cannot be stored as UTF-8: refused rather than silently turned into U+FFFD.
  const lone = SURROGATE_ESCAPE.test(text) ? illFormedString(value) : undefined;
  if (lone !== undefined) {
    const message = "not well-formed Unicode: a lone surrogate (\\ud800-\\udfff) without its pair";
    throw new AgentdError("invalid_request", `${lone}: ${message}`, { issues: [{ path: lone, message }] });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: [...issue.path, key].join("."), message: "unknown field" }))
      : [{ path: issue.path.length > 0 ? issue.path.join(".") : "(body)", message: issue.message }],
  );
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  throw new AgentdError("invalid_request", summary, { issues });
}

function tooLarge(limit: number): AgentdError {
  return new AgentdError("payload_too_large", `the request body is larger than ${limit} bytes`);
}

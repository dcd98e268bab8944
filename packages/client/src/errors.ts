import type { ErrorBody, ResultSubtype } from "@agentd/protocol";
import { headers as HEADERS } from "./internal/routes.js";

type Brand = symbol;
const brandKey = (name: string): Brand => Symbol.for(`agentd.error.${name}`);

interface ErrorClass {
  readonly brand: Brand;
}

/**
 * Base of every error the SDK throws. Recognise them with `isInstance`
 * rather than `instanceof`: two copies of this package in one program (a
 * bundler or a nested node_modules) have distinct classes, but share the
 * `Symbol.for` brands each instance carries.
 */
export class AgentdError extends Error {
  static readonly brand: Brand = brandKey("AgentdError");
  /** HTTP status, when the error came from a response. */
  readonly status: number | undefined;
  /** Machine-readable code from the error body (`session_busy`, `invalid_model`, ...). */
  readonly code: string | undefined;
  /** The server's request id (`x-request-id`), to quote in bug reports. */
  readonly requestId: string | undefined;
  /** The parsed error body, when there was one. */
  readonly body: unknown;
  /** Response headers, when the error came from a response. */
  readonly headers: Headers | undefined;

  constructor(
    message: string,
    options: { status?: number; code?: string; requestId?: string; body?: unknown; headers?: Headers; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.code = options.code;
    this.requestId = options.requestId;
    this.body = options.body;
    this.headers = options.headers;
    // Brand the instance with its class and every ancestor, so a
    // NotFoundError is also recognised as an AgentdError.
    for (let cls: unknown = new.target; cls !== Error && typeof cls === "function"; cls = Object.getPrototypeOf(cls)) {
      if (Object.prototype.hasOwnProperty.call(cls, "brand")) {
        Object.defineProperty(this, (cls as unknown as ErrorClass).brand, { value: true });
      }
    }
    Object.defineProperty(this, "name", { value: nameOf(new.target), enumerable: false, configurable: true, writable: true });
  }

  /** True for an AgentdError (any subclass included) from any copy of this package. Safe to pass unbound. */
  static readonly isInstance = guard<AgentdError>(this.brand);
}

function guard<T>(brand: Brand): (value: unknown) => value is T {
  return (value): value is T => typeof value === "object" && value !== null && (value as Record<Brand, unknown>)[brand] === true;
}

function nameOf(cls: unknown): string {
  const description = (cls as ErrorClass).brand.description ?? "agentd.error.AgentdError";
  return description.slice("agentd.error.".length);
}

/** An HTTP response with a non-2xx status. */
export class APIError extends AgentdError {
  static override readonly brand = brandKey("APIError");
  static override readonly isInstance = guard<APIError>(this.brand);
}
export class BadRequestError extends APIError {
  static override readonly brand = brandKey("BadRequestError");
  static override readonly isInstance = guard<BadRequestError>(this.brand);
}
export class AuthenticationError extends APIError {
  static override readonly brand = brandKey("AuthenticationError");
  static override readonly isInstance = guard<AuthenticationError>(this.brand);
}
export class PermissionDeniedError extends APIError {
  static override readonly brand = brandKey("PermissionDeniedError");
  static override readonly isInstance = guard<PermissionDeniedError>(this.brand);
}
export class NotFoundError extends APIError {
  static override readonly brand = brandKey("NotFoundError");
  static override readonly isInstance = guard<NotFoundError>(this.brand);
}
/** 409: `session_busy`, `session_ended`, `run_terminal`. Final: never retried. */
export class ConflictError extends APIError {
  static override readonly brand = brandKey("ConflictError");
  static override readonly isInstance = guard<ConflictError>(this.brand);
}
export class UnprocessableEntityError extends APIError {
  static override readonly brand = brandKey("UnprocessableEntityError");
  static override readonly isInstance = guard<UnprocessableEntityError>(this.brand);
}
export class RateLimitError extends APIError {
  static override readonly brand = brandKey("RateLimitError");
  static override readonly isInstance = guard<RateLimitError>(this.brand);
}
export class InternalServerError extends APIError {
  static override readonly brand = brandKey("InternalServerError");
  static override readonly isInstance = guard<InternalServerError>(this.brand);
}

/** The request never got a response: DNS, refused connection, reset, bad TLS. `cause` holds the original error. */
export class APIConnectionError extends AgentdError {
  static override readonly brand = brandKey("APIConnectionError");
  static override readonly isInstance = guard<APIConnectionError>(this.brand);
}
/** No response (or, for streams, no bytes) within the allowed time. */
export class APIConnectionTimeoutError extends APIConnectionError {
  static override readonly brand = brandKey("APIConnectionTimeoutError");
  static override readonly isInstance = guard<APIConnectionTimeoutError>(this.brand);
}
/** The caller's `AbortSignal` fired. */
export class APIUserAbortError extends AgentdError {
  static override readonly brand = brandKey("APIUserAbortError");
  static override readonly isInstance = guard<APIUserAbortError>(this.brand);
  constructor(message = "Request was aborted", options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

/** A run ended with a `result` whose subtype is not `success`. */
export class RunFailedError extends AgentdError {
  static override readonly brand = brandKey("RunFailedError");
  static override readonly isInstance = guard<RunFailedError>(this.brand);
  readonly runId: string;
  readonly subtype: ResultSubtype;
  /** Whatever answer text the run produced before it failed, if any. */
  readonly text: string | undefined;
  constructor(runId: string, subtype: ResultSubtype, error: string | undefined, text?: string) {
    super(`run ${runId} failed (${subtype})${error ? `: ${error}` : ""}`, { code: subtype });
    this.runId = runId;
    this.subtype = subtype;
    this.text = text;
  }
}

/** A run ended with `cancelled`. */
export class RunCancelledError extends AgentdError {
  static override readonly brand = brandKey("RunCancelledError");
  static override readonly isInstance = guard<RunCancelledError>(this.brand);
  readonly runId: string;
  readonly reason: string | undefined;
  constructor(runId: string, reason?: string) {
    super(`run ${runId} was cancelled${reason ? `: ${reason}` : ""}`, { code: "cancelled" });
    this.runId = runId;
    this.reason = reason;
  }
}

const STATUS_CLASSES: Record<number, typeof APIError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The one place a status becomes an error class. */
export function errorFromResponse(status: number, body: unknown, headers: Headers): APIError {
  const errorBody = typeof body === "object" && body !== null ? (body as Partial<ErrorBody>) : {};
  const message = errorBody.message ?? errorBody.error ?? (typeof body === "string" && body ? body : `HTTP ${status}`);
  const Class = STATUS_CLASSES[status] ?? (status >= 500 ? InternalServerError : APIError);
  return new Class(message, {
    status,
    code: errorBody.code,
    requestId: headers.get(HEADERS.requestId) ?? errorBody.requestId,
    body,
    headers,
  });
}

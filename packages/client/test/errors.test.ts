import { describe, expect, it } from "vitest";
import {
  Agentd,
  AgentdError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RunCancelledError,
  RunFailedError,
  UnprocessableEntityError,
} from "../src/index.js";
import { errorBody, fakeFetch } from "./helpers/fake-server.js";

const byStatus = [
  [400, BadRequestError],
  [401, AuthenticationError],
  [403, PermissionDeniedError],
  [404, NotFoundError],
  [409, ConflictError],
  [422, UnprocessableEntityError],
  [429, RateLimitError],
  [500, InternalServerError],
  [503, InternalServerError],
] as const;

describe("error mapping", () => {
  it.each(byStatus)("maps %i to %s with code, message and request id", async (status, Class) => {
    const fetch = fakeFetch(() => errorBody("some_code", `failed with ${status}`, status, { "x-request-id": "req_1" }));
    const client = new Agentd({ apiKey: "k", fetch, maxRetries: 0 });
    const error = await client.runs.get("run_1").catch((e: unknown) => e);
    expect(Class.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(Class);
    expect(error).toMatchObject({ status, code: "some_code", requestId: "req_1", message: `failed with ${status}`, name: Class.name });
    expect((error as AgentdError).body).toEqual({ error: `failed with ${status}`, code: "some_code", message: `failed with ${status}` });
  });

  it("keeps a non-JSON error body and names the status", async () => {
    const fetch = fakeFetch(() => new Response("", { status: 418 }));
    const error = await new Agentd({ apiKey: "k", fetch }).models.list().catch((e: unknown) => e);
    expect(APIError.isInstance(error)).toBe(true);
    expect(NotFoundError.isInstance(error)).toBe(false);
    expect((error as Error).message).toBe("HTTP 418");
  });
});

const run = "run_1";
const instances: Array<[Function & { isInstance(value: unknown): boolean }, AgentdError]> = [
  [AgentdError, new AgentdError("x")],
  [APIError, new APIError("x")],
  [BadRequestError, new BadRequestError("x")],
  [AuthenticationError, new AuthenticationError("x")],
  [PermissionDeniedError, new PermissionDeniedError("x")],
  [NotFoundError, new NotFoundError("x")],
  [ConflictError, new ConflictError("x")],
  [UnprocessableEntityError, new UnprocessableEntityError("x")],
  [RateLimitError, new RateLimitError("x")],
  [InternalServerError, new InternalServerError("x")],
  [APIConnectionError, new APIConnectionError("x")],
  [APIConnectionTimeoutError, new APIConnectionTimeoutError("x")],
  [APIUserAbortError, new APIUserAbortError()],
  [RunFailedError, new RunFailedError(run, "error_model", "boom")],
  [RunCancelledError, new RunCancelledError(run)],
];

describe("isInstance", () => {
  it("accepts exactly the class and its subclasses, rejecting every sibling", () => {
    for (const [Class] of instances) {
      for (const [Other, error] of instances) {
        const related = error instanceof Class;
        expect(Class.isInstance(error), `${Class.name}.isInstance(new ${Other.name})`).toBe(related);
      }
    }
    // The matrix above must contain real siblings, or it proves nothing.
    expect(NotFoundError.isInstance(new ConflictError("x"))).toBe(false);
    expect(APIConnectionError.isInstance(new APIConnectionTimeoutError("x"))).toBe(true);
    expect(APIConnectionTimeoutError.isInstance(new APIConnectionError("x"))).toBe(false);
  });

  it("recognises an error from another copy of the package by its Symbol.for brand", () => {
    const foreign = Object.assign(new Error("from a duplicate copy"), {
      [Symbol.for("agentd.error.AgentdError")]: true,
      [Symbol.for("agentd.error.APIError")]: true,
      [Symbol.for("agentd.error.NotFoundError")]: true,
    });
    expect(NotFoundError.isInstance(foreign)).toBe(true);
    expect(AgentdError.isInstance(foreign)).toBe(true);
    expect(ConflictError.isInstance(foreign)).toBe(false);
    expect(AgentdError.isInstance(new Error("plain"))).toBe(false);
    expect(AgentdError.isInstance(null)).toBe(false);
  });

  it("carries run details on run errors", () => {
    const failed = new RunFailedError(run, "error_max_tool_turns", "too many turns", "partial");
    expect(failed).toMatchObject({ runId: run, subtype: "error_max_tool_turns", text: "partial", code: "error_max_tool_turns" });
    expect(failed.message).toBe("run run_1 failed (error_max_tool_turns): too many turns");
    expect(new RunCancelledError(run, "user").message).toBe("run run_1 was cancelled: user");
  });
});

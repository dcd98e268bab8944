import { describe, expect, it } from "vitest";
import { createLogger } from "@agentd/server";

describe("createLogger (pino)", () => {
  it("writes one JSON object per line: level name, ISO time, fields, msg", () => {
    const lines: string[] = [];
    createLogger("info", (line) => lines.push(line)).info({ runId: "run_1", n: 2 }, "hello");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toEqual({ level: "info", time: expect.any(String), runId: "run_1", n: 2, msg: "hello" });
    expect(new Date(entry.time).toISOString()).toBe(entry.time);
  });

  it("drops what is below its level, and an unknown level reads as info", () => {
    const lines: string[] = [];
    const warn = createLogger("warn", (line) => lines.push(line));
    warn.info({}, "no");
    warn.warn({}, "yes");
    warn.error({}, "yes");
    createLogger("silent", (line) => lines.push(line)).error({}, "no");
    createLogger("loud" as never, (line) => lines.push(line)).info({}, "yes");
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["yes", "yes", "yes"]);
  });

  it("writes an error as its name, message and stack, not the request a provider SDK attached to it", () => {
    const lines: string[] = [];
    const error = Object.assign(new TypeError("boom"), {
      requestBodyValues: { prompt: "secret prompt" },
      responseHeaders: { "x-key": "k" },
    });
    createLogger("info", (line) => lines.push(line)).error({ err: error }, "failed");
    const entry = JSON.parse(lines[0]!);
    expect(entry.err).toEqual({ name: "TypeError", message: "boom", stack: expect.stringContaining("TypeError: boom") });
    expect(lines[0]).not.toContain("secret prompt");
  });
});

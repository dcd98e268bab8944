import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "../src/index.js";

describe("defineTool", () => {
  it("derives the wire JSON Schema from a zod 4 schema, without $schema", () => {
    const tool = defineTool({ name: "add", parameters: z.object({ a: z.number(), b: z.number().optional() }), execute: ({ a, b }) => a + (b ?? 0) });
    expect(tool.parameters).toEqual({ type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a"], additionalProperties: false });
    expect(tool.kind).toBe("local");
  });

  it("accepts a plain JSON Schema and an explicit jsonSchema for schemas without toJSONSchema", () => {
    expect(defineTool({ name: "raw", parameters: { type: "object", properties: { q: { type: "string" } } }, execute: () => "" }).parameters).toEqual({
      type: "object",
      properties: { q: { type: "string" } },
    });
    const zod3Like = { safeParse: (value: unknown) => ({ success: true as const, data: value as { q: string } }) };
    expect(() => defineTool({ name: "old", parameters: zod3Like, execute: () => "" })).toThrow(/pass its JSON Schema as jsonSchema/);
    expect(defineTool({ name: "old", parameters: zod3Like, jsonSchema: { type: "object" }, execute: () => "" }).parameters).toEqual({ type: "object" });
    expect(defineTool({ name: "none", execute: () => "" }).parameters).toEqual({ type: "object", properties: {} });
  });

  it("rejects bad names and non-object schemas", () => {
    for (const name of ["", "has space", "dot.ted", "x".repeat(65)]) {
      expect(() => defineTool({ name, execute: () => "" })).toThrow(/invalid name/);
    }
    expect(defineTool({ name: "A-b_9".padEnd(64, "z"), execute: () => "" }).name).toHaveLength(64);
    expect(() => defineTool({ name: "s", parameters: z.string(), execute: () => "" })).toThrow(/must describe an object/);
  });
});

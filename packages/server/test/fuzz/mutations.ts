import fc from "fast-check";
import { clone, jsonText, manyOf, Raw, raw, setOwn } from "./json-text.js";
import type { JsonSchema } from "./schema-values.js";
import { anyType, deepValue, hugeValue, trickyKey, weirdNumber, weirdString } from "./values.js";

type Path = (string | number)[];

/** One change to a body: what it does to the node at a path. */
type Op =
  | { op: "wrong-type"; value: unknown }
  | { op: "missing" }
  | { op: "extra"; key: string; value: unknown }
  | { op: "proto"; key: string; value: unknown }
  | { op: "huge"; value: Raw }
  | { op: "deep"; value: Raw }
  | { op: "weird-string"; value: string }
  | { op: "weird-key"; key: string }
  | { op: "weird-number"; value: number | Raw }
  | { op: "many"; count: number }
  | { op: "duplicate-key"; value: unknown }
  | { op: "empty"; value: unknown };

function opArb(maxBodyBytes: number): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 6, arbitrary: anyType.map((value): Op => ({ op: "wrong-type", value })) },
    { weight: 4, arbitrary: fc.constant<Op>({ op: "missing" }) },
    { weight: 4, arbitrary: fc.tuple(trickyKey, anyType).map(([key, value]): Op => ({ op: "extra", key, value })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom("__proto__", "constructor", "prototype"), fc.oneof(fc.constant({ polluted: true }), fc.constant({ prototype: { polluted: true } }), fc.constant("x"), fc.constant(null), fc.constant([1])))
        .map(([key, value]): Op => ({ op: "proto", key, value })),
    },
    { weight: 1, arbitrary: hugeValue(maxBodyBytes).map((value): Op => ({ op: "huge", value })) },
    { weight: 3, arbitrary: deepValue.map((value): Op => ({ op: "deep", value })) },
    { weight: 5, arbitrary: weirdString.map((value): Op => ({ op: "weird-string", value })) },
    { weight: 2, arbitrary: weirdString.map((key): Op => ({ op: "weird-key", key })) },
    { weight: 3, arbitrary: weirdNumber.map((value): Op => ({ op: "weird-number", value })) },
    { weight: 1, arbitrary: fc.constantFrom(17, 129, 1_001, 10_001, 100_000).map((count): Op => ({ op: "many", count })) },
    { weight: 1, arbitrary: anyType.map((value): Op => ({ op: "duplicate-key", value })) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({}, [], "", 0).map((value): Op => ({ op: "empty", value })) },
  );
}

/** Every node's path (root first); Raw nodes are leaves. */
function pathsOf(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (value !== null && typeof value === "object" && !(value instanceof Raw)) {
    if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...at, index], out));
    else for (const key of Object.keys(value)) pathsOf((value as Record<string, unknown>)[key], [...at, key], out);
  }
  return out;
}

/** The schema of the node at `path`, approximately: unions contribute the properties of all their branches. */
function schemaAt(schema: JsonSchema | undefined, path: Path): JsonSchema | undefined {
  let current = schema;
  for (const step of path) {
    if (current === undefined) return undefined;
    const branches = current.oneOf ?? current.anyOf;
    if (branches) current = { type: "object", properties: Object.assign({}, ...branches.map((b) => b.properties ?? {})), items: branches.find((b) => b.items)?.items } as JsonSchema;
    current = typeof step === "number" ? current.items : (current.properties?.[step] ?? (typeof current.additionalProperties === "object" ? current.additionalProperties : undefined));
  }
  return current;
}

/**
 * Targets for a mutation: every node of the body, plus the properties its
 * schema allows that the body leaves out (so `dependencies` and a tool's
 * `parameters` get deep and huge values even when the valid core has none).
 */
function targetsOf(value: unknown, schema: JsonSchema | undefined): Path[] {
  const targets = pathsOf(value);
  for (const path of [...targets]) {
    const node = get(value, path);
    if (node === null || typeof node !== "object" || Array.isArray(node) || node instanceof Raw) continue;
    const here = schemaAt(schema, path);
    const branches = here?.oneOf ?? here?.anyOf ?? (here ? [here] : []);
    for (const branch of branches) for (const key of Object.keys(branch.properties ?? {})) if (!(key in (node as object))) targets.push([...path, key]);
  }
  return targets;
}

function get(value: unknown, path: Path): unknown {
  let node = value;
  for (const step of path) node = (node as Record<string | number, unknown> | undefined)?.[step];
  return node;
}

/** Replaces the node at `path` (creating it in its parent object) with what `change` returns; `undefined` deletes it. */
function update(root: unknown, path: Path, change: (node: unknown) => unknown): unknown {
  if (path.length === 0) return change(root);
  const parent = get(root, path.slice(0, -1));
  if (parent === null || typeof parent !== "object" || parent instanceof Raw) return root;
  const key = path[path.length - 1]!;
  const next = change((parent as Record<string | number, unknown>)[key]);
  if (Array.isArray(parent) && typeof key === "number") {
    if (next === undefined) parent.splice(key, 1);
    else parent[key] = next;
  } else if (next === undefined) {
    delete (parent as Record<string, unknown>)[key as string];
  } else {
    setOwn(parent as Record<string, unknown>, String(key), next);
  }
  return root;
}

const isObject = (node: unknown): node is Record<string, unknown> => node !== null && typeof node === "object" && !Array.isArray(node) && !(node instanceof Raw);

/** Applies one op at one path of a copy; returns the new body and a tag naming what was done where. */
function apply(body: unknown, path: Path, op: Op): { body: unknown; tag: string } {
  const where = path.length === 0 ? "(body)" : path.join(".");
  const tag = `${op.op}@${where}`;
  const copy = clone(body);
  switch (op.op) {
    case "wrong-type":
    case "huge":
    case "deep":
    case "weird-number":
    case "empty":
      return { body: update(copy, path, () => op.value), tag };
    case "weird-string":
      // Into a string (NUL or a lone surrogate in the middle of a valid value) or in place of the node.
      return { body: update(copy, path, (node) => (typeof node === "string" ? `${node.slice(0, 4)}${op.value}${node.slice(4)}` : op.value)), tag };
    case "missing":
      return { body: path.length === 0 ? undefined : update(copy, path, () => undefined), tag };
    case "extra":
    case "proto":
      return {
        body: update(copy, path, (node) => {
          const target = isObject(node) ? node : {};
          setOwn(target, op.key, op.value);
          return target;
        }),
        tag: `${tag}[${JSON.stringify(op.key).slice(0, 20)}]`,
      };
    case "weird-key":
      return {
        body: update(copy, path.slice(0, -1), (parent) => {
          if (!isObject(parent) || path.length === 0) return parent;
          const renamed: Record<string, unknown> = {};
          const last = String(path[path.length - 1]);
          for (const key of Object.keys(parent)) setOwn(renamed, key === last ? `${key}${op.key}` : key, parent[key]);
          return renamed;
        }),
        tag,
      };
    case "many":
      return { body: update(copy, path, (node) => manyOf(Array.isArray(node) && node.length > 0 ? node[0] : (node ?? 0), op.count)), tag: `${tag}x${op.count}` };
    case "duplicate-key":
      return {
        body: update(copy, path, (node) => {
          if (!isObject(node) || Object.keys(node).length === 0) return raw('{"a":1,"a":2}', '{"a":1,"a":2}');
          const key = Object.keys(node)[0]!;
          const text = jsonText(node);
          const extra = `${JSON.stringify(key)}:${jsonText(op.value)}`;
          // The same key again, first and last: parsers disagree on which wins.
          return raw(`{${extra},...,${extra}}`, `{${extra},${text.slice(1, -1)},${extra}}`);
        }),
        tag,
      };
  }
}

/** A valid-ish body with 0 to 3 mutations at schema-chosen places. */
export function mutatedBody(core: fc.Arbitrary<unknown>, schema: JsonSchema | undefined, maxBodyBytes: number): fc.Arbitrary<{ body: unknown; tags: string[] }> {
  const ops = fc.array(fc.tuple(fc.nat(), opArb(maxBodyBytes)), { minLength: 0, maxLength: 3 });
  return fc.tuple(core, fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: ops })).map(([valid, changes]) => {
    let body: unknown = valid;
    const tags: string[] = [];
    for (const [pick, op] of changes) {
      if (body === undefined) break;
      const targets = targetsOf(body, schema);
      const done = apply(body, targets[pick % targets.length]!, op);
      body = done.body;
      tags.push(done.tag);
    }
    return { body, tags: tags.length > 0 ? tags : ["valid-ish"] };
  });
}

/** How deeply a value a model produced (tool arguments, a structured answer) may nest before it is refused. */
export const MODEL_JSON_MAX_DEPTH = 128;

/**
 * The path (`tools.0.parameters.properties`) of the first array or object
 * nested deeper than `maxDepth`, or undefined. Iterative, so that no input
 * can reach the call stack; the path is built only when there is one.
 */
export function tooDeep(value: unknown, maxDepth: number): string | undefined {
  type Node = { value: unknown; depth: number; key: string; parent: Node | undefined };
  const stack: Node[] = [{ value, depth: 1, key: "", parent: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const current = node.value;
    if (current === null || typeof current !== "object") continue;
    if (node.depth > maxDepth) return pathOf(node);
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        const item: unknown = current[i];
        if (item !== null && typeof item === "object") stack.push({ value: item, depth: node.depth + 1, key: String(i), parent: node });
      }
    } else {
      for (const key in current) {
        const item: unknown = (current as Record<string, unknown>)[key];
        if (item !== null && typeof item === "object") stack.push({ value: item, depth: node.depth + 1, key, parent: node });
      }
    }
  }
  return undefined;
}

function pathOf(node: { key: string; parent: { key: string; parent: unknown } | undefined }): string {
  const keys: string[] = [];
  for (let at: typeof node | undefined = node; at?.parent !== undefined; at = at.parent as typeof node) keys.push(at.key);
  return keys.length === 0 ? "(body)" : keys.reverse().join(".");
}

/**
 * The path of the first string (value or key) that is not well-formed
 * UTF-16 — a lone surrogate, which UTF-8 cannot carry — or undefined.
 * Iterative, like tooDeep.
 */
export function illFormedString(value: unknown): string | undefined {
  type Node = { value: unknown; key: string; parent: Node | undefined };
  const stack: Node[] = [{ value, key: "", parent: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const current = node.value;
    if (typeof current === "string") {
      if (!current.isWellFormed()) return pathOf(node);
      continue;
    }
    if (current === null || typeof current !== "object") continue;
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], key: String(i), parent: node });
    } else {
      for (const key in current) {
        if (!key.isWellFormed()) return pathOf({ key, parent: node });
        stack.push({ value: (current as Record<string, unknown>)[key], key, parent: node });
      }
    }
  }
  return undefined;
}

import { AgentdError } from "../errors.js";
import type { Context, Handler, Middleware, Reply } from "./context.js";

interface Route {
  method: string;
  /** As registered, for the request log: the template, not the path with its ids. */
  pattern: string;
  segments: string[];
  handler: Handler;
  middleware: Middleware[];
}

/**
 * Method + path matching with `{param}` segments (the route table's OpenAPI
 * templates; `:param` works too). Small on purpose: a route table of a dozen
 * entries needs no radix tree, and owning it keeps the hot path free of
 * adapters (see docs/ARCHITECTURE.md). Routes come from the table through
 * registerRoutes (register.ts); `on` is the primitive under it.
 */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, ...stack: [...Middleware[], Handler]): this {
    const handler = stack.pop() as Handler;
    this.routes.push({ method, pattern, segments: patternSegments(pattern), handler, middleware: stack as Middleware[] });
    return this;
  }

  /** Runs the matching route; unknown path → 404, known path with another method → 405. */
  dispatch(ctx: Context, method: string): Promise<Reply | void> {
    const segments = split(ctx.url.pathname);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = match(route.segments, segments);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== method && !(method === "HEAD" && route.method === "GET")) continue;
      ctx.params = params;
      ctx.route = route.pattern;
      return compose(route.middleware, route.handler, ctx);
    }
    if (pathMatched) throw new AgentdError("method_not_allowed", `${method} is not allowed on ${ctx.url.pathname}`);
    throw new AgentdError("not_found", `no route for ${method} ${ctx.url.pathname}`);
  }
}

function split(path: string): string[] {
  return path.split("/").filter((segment) => segment.length > 0);
}

/** A pattern's segments, each `{name}` written `:name` once at registration, so matching tests one prefix. */
function patternSegments(pattern: string): string[] {
  return split(pattern).map((segment) => (segment.startsWith("{") && segment.endsWith("}") ? `:${segment.slice(1, -1)}` : segment));
}

function match(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = segments[i]!;
    if (expected.startsWith(":")) {
      try {
        params[expected.slice(1)] = decodeURIComponent(actual);
      } catch {
        throw new AgentdError("invalid_request", `path segment '${actual}' is not valid percent-encoding`);
      }
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}

function compose(middleware: Middleware[], handler: Handler, ctx: Context): Promise<Reply | void> {
  const run = (index: number): Promise<Reply | void> =>
    index < middleware.length ? middleware[index]!(ctx, () => run(index + 1)) : Promise.resolve(handler(ctx));
  return run(0);
}

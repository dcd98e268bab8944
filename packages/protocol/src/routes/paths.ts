import { API_PREFIX } from "../wire.js";
import type { PathArguments } from "./route.js";
import { routes, type OperationId } from "./table.js";

/** Every workspace route's template starts with this; `paths` give what follows it. */
export const WORKSPACE_PATH = `${API_PREFIX}/{workspace}`;

/**
 * Which route each of `paths` builds the path of: a name per path (several
 * operations share one), kept for the SDK, the CLI and `streamUrl`.
 */
export const PATH_ROUTES = {
  models: "listModels",
  runs: "createRun",
  run: "getRun",
  runStream: "streamRun",
  runToolResults: "submitToolResult",
  runCancel: "cancelRun",
  runContinue: "continueRun",
  sessions: "createSession",
  session: "getSession",
  sessionMessages: "sendSessionMessage",
} as const satisfies Record<string, OperationId>;

type Relative<T extends string> = T extends `${typeof API_PREFIX}/{workspace}${infer Rest}` ? Rest : never;
type PathBuilders = {
  [K in keyof typeof PATH_ROUTES]: (...args: PathArguments<Relative<(typeof routes)[(typeof PATH_ROUTES)[K]]["path"]>>) => string;
};

/** A function filling a template's `{name}`s in order, each percent-encoded. */
export function pathBuilder(template: string): (...args: string[]) => string {
  const pieces = template.split(/\{[^}]+\}/);
  return (...args) => pieces.reduce((path, piece, i) => (i === 0 ? piece : `${path}${encodeURIComponent(args[i - 1]!)}${piece}`), "");
}

/** The API's paths under a workspace (`paths.workspace(slug) + paths.run(id)`), built from the route table. */
export const paths = {
  workspace: (workspace: string) => `${API_PREFIX}/${encodeURIComponent(workspace)}`,
  ...(Object.fromEntries(
    Object.entries(PATH_ROUTES).map(([name, operationId]) => [name, pathBuilder(routes[operationId].path.slice(WORKSPACE_PATH.length))]),
  ) as PathBuilders),
};

type WorkspaceOperationId = { [K in OperationId]: Relative<(typeof routes)[K]["path"]> extends never ? never : K }[OperationId];

/**
 * The shape of the SDK's generated `operations` (client/src/internal/routes.ts):
 * per workspace operation, its method and its path under the workspace. The
 * SDK checks its copy against this type, so a route added, renamed or moved
 * here fails the SDK's build until the copy is generated again.
 */
export type ClientOperations = {
  [K in WorkspaceOperationId]: (...args: PathArguments<Relative<(typeof routes)[K]["path"]>>) => {
    method: (typeof routes)[K]["method"];
    path: string;
  };
};

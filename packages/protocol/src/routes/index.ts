export { ERROR_RESPONSES, errorStatuses } from "./errors.js";
export { IDEMPOTENCY_KEY, LAST_EVENT_ID, type RequestHeader } from "./headers.js";
export { componentNames } from "./components.js";
export { openApiDocument, PATH_PARAMETERS } from "./openapi.js";
export { PATH_ROUTES, pathBuilder, paths, WORKSPACE_PATH, type ClientOperations } from "./paths.js";
export {
  defineRoute,
  TAGS,
  pathParameters,
  type Auth,
  type ErrorStatus,
  type Method,
  type PathArguments,
  type QueryParameter,
  type RouteDeclaration,
  type SuccessResponse,
} from "./route.js";
export { NAMED_SCHEMAS } from "./schemas.js";
export { ROUTES, routes, type AnyRoute, type OperationId } from "./table.js";

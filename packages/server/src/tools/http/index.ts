// HTTP server tools (issue #3): an HttpToolRef becomes a ServerTool whose
// requests pass an SSRF guard; docs/tools-http.md is the user's guide.
// Tools defined in a request reach only the hosts of requestAllow (issue #8).
export { createHttpTool, type HttpToolOptions } from "./tool.js";
export { allowlistFromEnv, HTTP_ALLOW_ENV, parseAllowlist, type OutboundAllowlist } from "./allowlist.js";
export {
  HTTP_REQUEST_ALLOW_ENV,
  parseRequestAllowlist,
  requestAllowlistFromEnv,
  requestHostRefusal,
  templateHostProblem,
  type RequestAllowlist,
} from "./request-allow.js";
export { REDACTED, redactCredentials } from "./secrets.js";
export { classifyAddress, type AddressClass } from "./address.js";
export type { Resolver } from "./guard.js";

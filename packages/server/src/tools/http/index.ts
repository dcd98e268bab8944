// HTTP server tools (issue #3): an HttpToolRef becomes a ServerTool whose
// requests pass an SSRF guard; docs/tools-http.md is the user's guide.
export { createHttpTool, type HttpToolOptions } from "./tool.js";
export { allowlistFromEnv, HTTP_ALLOW_ENV, parseAllowlist, type OutboundAllowlist } from "./allowlist.js";
export { classifyAddress, type AddressClass } from "./address.js";
export type { Resolver } from "./guard.js";

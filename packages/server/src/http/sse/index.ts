/**
 * Server-sent events, the HTTP edge's streaming half: a run's events served
 * as a stream (stream-run.ts and its pieces), the `error` frame that ends a
 * stream failing after its headers, and the open streams ended at shutdown.
 */
export { parseCursor } from "./cursor.js";
export type { EventReader } from "./catch-up.js";
export { endWithErrorFrame } from "./error-frame.js";
export { isEventStream } from "./headers.js";
export { endStreams, type OpenStream } from "./open-streams.js";
export { streamRun, type StreamOptions } from "./stream-run.js";

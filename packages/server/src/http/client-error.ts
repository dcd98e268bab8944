import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from "@agentd/protocol";
import { newId } from "../ids.js";
import type { Logger } from "../logger.js";

/**
 * Requests node's HTTP parser refuses before any handler runs (a byte above
 * 0x7f in the path, obs-fold, Content-Length with Transfer-Encoding, 16 KB
 * of headers, an `Expect` other than 100-continue) get the documented error
 * body too, instead of node's bare `400 Bad Request` with none. Each is a
 * line of the request log (request-log.ts), without method or route: the
 * parser did not get that far.
 */
export function answerClientErrors(server: Server, logger?: Logger): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A response already under way on this socket, or nobody left to read one.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [code, message] = parserRefusal(error.code);
    const body = errorBody(code, message);
    socket.end(rawResponse(code, body), () => socket.destroy());
    logger?.info({ requestId: body.requestId, status: ERROR_STATUS[code], parseError: error.code }, "request");
  });
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    const body = errorBody("expectation_failed", "only Expect: 100-continue is supported");
    res.writeHead(ERROR_STATUS.expectation_failed, { "content-type": "application/json; charset=utf-8", "x-request-id": body.requestId! });
    res.end(JSON.stringify(body));
    logger?.info({ requestId: body.requestId, method: req.method, status: ERROR_STATUS.expectation_failed }, "request");
  });
}

function parserRefusal(code: string | undefined): [ErrorCode, string] {
  if (code === "HPE_HEADER_OVERFLOW") return ["headers_too_large", "the request headers are too large"];
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return ["request_timeout", "the request was not received in time"];
  return ["invalid_request", `the request is not valid HTTP/1.1 (${code ?? "parse error"})`];
}

function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: message, code, message, requestId: newId("req") };
}

function rawResponse(code: ErrorCode, body: ErrorBody): string {
  const payload = JSON.stringify(body);
  return [
    `HTTP/1.1 ${ERROR_STATUS[code]} ${REASONS[code] ?? "Bad Request"}`,
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(payload)}`,
    `x-request-id: ${body.requestId}`,
    "connection: close",
    "",
    payload,
  ].join("\r\n");
}

const REASONS: Partial<Record<ErrorCode, string>> = {
  headers_too_large: "Request Header Fields Too Large",
  request_timeout: "Request Timeout",
};

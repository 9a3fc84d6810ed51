import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { HTTP_VERSION_NOT_SUPPORTED, issuerResponse, PAYLOAD_TOO_LARGE } from "../issuer-response.js";
import type { IssuerDocuments } from "../prepare-documents.js";
import type { WireResponse } from "../prepared-response.js";
import type { ServerLogger } from "../server-log.js";
import type { ServerLimits } from "../start-issuer-server.js";
import type { OpenConnections } from "./open-connections.js";
import { secureContextOptions, type TlsMaterial } from "./tls-files.js";

const MAX_LOGGED_URL = 512;
const MAX_LOGGED_HEADER = 256;

/** @internal What the wire reads on every request, as it is at that moment. */
export interface ServedState {
  readonly documents: IssuerDocuments;
  readonly shuttingDown: boolean;
}

/**
 * @internal The HTTP (with `tls`, HTTPS) server that answers for the issuer: its documents, and
 * every request or connection that is not one (another HTTP version, a body, CONNECT, a request
 * Node cannot parse, a failed handshake), each with an answer and a log entry. It does not listen.
 */
export function createIssuerHttpServer(settings: {
  state: ServedState;
  limits: ServerLimits;
  tls: TlsMaterial | undefined;
  connections: OpenConnections;
  log: ServerLogger | undefined;
}): HttpServer | HttpsServer {
  const { state, limits, tls, connections, log } = settings;
  const common = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node checks the two timeouts above; by default only every 30 s.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, limits.headersTimeoutMs / 4)),
  };
  const handler = (request: IncomingMessage, response: ServerResponse) =>
    answer(request, response, state, limits.maxBodyBytes, connections, log);
  const server = tls
    ? createHttpsServer(
        {
          ...common,
          ...secureContextOptions(tls),
          handshakeTimeout: limits.handshakeTimeoutMs,
          // A client that offers ALPN must find its protocol here, or the handshake fails with
          // an alert instead of an HTTP answer (curl --http1.0 offers http/1.0).
          ALPNProtocols: ["http/1.1", "http/1.0"],
        },
        handler,
      )
    : createHttpServer(common, handler);
  connections.follow(server, tls !== undefined);
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(error, socket as Socket, log),
  );
  // CONNECT is not a request for a document; without this, Node drops the connection unanswered.
  server.on("connect", (request: IncomingMessage, socket: Socket) => {
    logRequest(log, request, 405, 0);
    socket.end(
      "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    );
  });
  // A failed or timed-out handshake; with a listener here, closing the socket is ours to do.
  server.on("tlsClientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    log?.({
      level: "info",
      event: "tls-client-error",
      code: error.code ?? "ERR_TLS",
      remoteAddress: socket.remoteAddress,
    });
    socket.destroy();
  });
  server.on("error", (error: NodeJS.ErrnoException) => {
    // Before it listens, the error is listen()'s own, and the caller of listen reports it.
    if (!server.listening) return;
    log?.({
      level: "error",
      event: "server-error",
      error: error.message,
      ...(error.code ? { code: error.code } : {}),
    });
  });
  return server;
}

/** The hot path: everything it sends was computed when the documents were loaded. */
function answer(
  request: IncomingMessage,
  response: ServerResponse,
  state: ServedState,
  maxBodyBytes: number,
  connections: OpenConnections,
  log: ServerLogger | undefined,
): void {
  const headers = request.headers;
  let closeConnection = state.shuttingDown;
  let answer: WireResponse | undefined;
  // Node parses any HTTP/x.y request line; only 1.0 and 1.1 are what this server speaks.
  if (request.httpVersionMajor !== 1 || request.httpVersionMinor > 1) {
    closeConnection = true;
    answer = HTTP_VERSION_NOT_SUPPORTED as WireResponse;
  }
  const length = headers["content-length"];
  const chunked = headers["transfer-encoding"] !== undefined;
  if (!answer && (chunked || (length !== undefined && length !== "0"))) {
    // No request here has a use for a body; answer without reading it, and close.
    closeConnection = true;
    if (chunked || !(Number(length) <= maxBodyBytes)) answer = PAYLOAD_TOO_LARGE;
  }
  // Every prepared answer is a WireResponse; the public type only hides the wire detail.
  answer ??= issuerResponse(
    state.documents,
    { method: request.method, url: request.url, ifNoneMatch: headers["if-none-match"] },
    !state.shuttingDown,
  ) as WireResponse;
  const head = answer.headers as string[];
  response.writeHead(answer.status, closeConnection ? [...head, "connection", "close"] : head);
  if (answer.asciiBody !== undefined) response.end(answer.asciiBody, "latin1");
  else response.end(answer.body);
  connections.answered(request.socket);
  if (log) {
    logRequest(log, request, answer.status, request.method === "HEAD" ? 0 : (answer.body?.length ?? 0));
  }
}

function logRequest(
  log: ServerLogger | undefined,
  request: IncomingMessage,
  status: number,
  bytes: number,
): void {
  if (!log) return;
  const url = request.url ?? "";
  const forwardedFor = request.headers["x-forwarded-for"];
  const userAgent = request.headers["user-agent"];
  log({
    level: "info",
    event: "request",
    method: request.method ?? "",
    path: url.length > MAX_LOGGED_URL ? `${url.slice(0, MAX_LOGGED_URL)}...` : url,
    status,
    bytes,
    remoteAddress: request.socket.remoteAddress,
    ...(typeof forwardedFor === "string" ? { forwardedFor: forwardedFor.slice(0, MAX_LOGGED_HEADER) } : {}),
    ...(userAgent === undefined ? {} : { userAgent: userAgent.slice(0, MAX_LOGGED_HEADER) }),
  });
}

/** A request Node could not parse, or that came too slowly: answer it if nothing was sent yet, then close. */
function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Socket,
  log: ServerLogger | undefined,
): void {
  const code = error.code ?? "ERR_UNKNOWN";
  if (code === "ECONNRESET" || code === "EPIPE" || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    code === "HPE_HEADER_OVERFLOW"
      ? 431
      : code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? 408
        : // A version Node's parser refuses (HTTP/1.2, HTTP/4.0): still one this server does not speak.
          code === "HPE_INVALID_VERSION"
          ? 505
          : 400;
  log?.({ level: "info", event: "client-error", status, code, remoteAddress: socket.remoteAddress });
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!pending?.headersSent) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  }
  socket.destroySoon();
}

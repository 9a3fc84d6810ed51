import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { createServer as createHttpsServer, Server as HttpsServer } from "node:https";
import { Server as NetServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { documentRequestPaths, validateIssuer } from "@irsa-anywhere/discovery";
import type { DocumentSource } from "./document-source.js";
import { ServeError } from "./errors.js";
import { HTTP_VERSION_NOT_SUPPORTED, issuerResponse, PAYLOAD_TOO_LARGE } from "./issuer-response.js";
import { type DocumentLoader, documentLoader, type LoadedDocuments } from "./lib/load-documents.js";
import { readTlsMaterial, secureContextOptions, type TlsMaterial } from "./lib/tls-files.js";
import { watchFiles } from "./lib/watch-files.js";
import { isLoopbackHost, type ListenAddress } from "./listen-address.js";
import type { IssuerDocuments } from "./prepare-documents.js";
import type { WireResponse } from "./prepared-response.js";
import type { ServerLogEntry, ServerLogger } from "./server-log.js";

/**
 * Bounds on what a client may send and how slowly: none of it is needed by STS or any OIDC client.
 * Together they leave no state in which a connection can idle forever: one that sends nothing
 * meets the headers timeout, one between requests the keep-alive timeout, one that never finishes
 * the TLS handshake the handshake timeout. (A socket inactivity timeout on top would re-arm a
 * timer on every read and write, for nothing.)
 */
export interface ServerLimits {
  /** Request line and headers together; larger gets `431`. Default 8 KiB. */
  maxHeaderBytes: number;
  /** A request declaring a larger body (or one of unknown length) gets `413`. Default 1 KiB. */
  maxBodyBytes: number;
  /** Time to receive the request line and headers; slower gets `408`. Default 10 s. */
  headersTimeoutMs: number;
  /** Time to receive a whole request; default 15 s. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this; default 5 s. */
  keepAliveTimeoutMs: number;
  /** Time to complete the TLS handshake; default 10 s. */
  handshakeTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxHeaderBytes: 8 * 1024,
  maxBodyBytes: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
});

export interface IssuerServerOptions {
  /** The issuer URL, exactly as the cluster's tokens carry it; its path is where the documents are served. */
  issuer: string;
  source: DocumentSource;
  /** Default `127.0.0.1`, port 0 (a free port; see `url`). */
  listen?: Partial<ListenAddress>;
  /** Serve HTTPS with this certificate (chain) and key, both PEM files, reloaded when they change. */
  tls?: { certFile: string; keyFile: string };
  /**
   * Serve plain HTTP on an address other than loopback, for TLS terminated in front of the
   * server (an ingress, a load balancer). Without it, that is refused: STS reads issuers over
   * HTTPS only, and documents served in the clear could be swapped on the way.
   */
  allowPlainHttp?: boolean;
  /** How often a key source is read again (a rotated cluster key is picked up); default 30 s, 0 never. */
  refreshIntervalMs?: number;
  /** How often the TLS and directory files are checked in case a file-system event was missed; default 10 s. */
  filePollIntervalMs?: number;
  /** How long `close()` waits for requests in flight before it cuts their connections; default 10 s. */
  shutdownTimeoutMs?: number;
  limits?: Partial<ServerLimits>;
  /** Receives every log entry (requests, reloads, errors); the server never writes to the console. */
  log?: ServerLogger;
}

/** What a `reload()` changed. */
export interface ReloadOutcome {
  documentsChanged: boolean;
  tlsChanged: boolean;
}

export interface IssuerServer {
  /** Where this server listens, `https://127.0.0.1:8443` (not the issuer, which a proxy may front). */
  readonly url: string;
  readonly address: ListenAddress;
  /** The documents as served right now. */
  readonly documents: IssuerDocuments;
  /**
   * Reads the documents (with a key source: reads the keys and merges them) and the TLS files
   * again now. The server keeps serving the previous documents until the new ones are ready, and
   * keeps them if reading fails.
   *
   * @throws what reading the source throws; the server goes on serving what it had.
   */
  reload(): Promise<ReloadOutcome>;
  /**
   * Stops accepting connections, lets requests in flight finish (answered with
   * `Connection: close`), closes a keep-alive connection once it has been silent for a moment
   * (at once, a client may have sent its next request already), and resolves once every connection is gone; after `timeoutMs` (default
   * the server's `shutdownTimeoutMs`) the remaining connections are cut. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const MAX_LOGGED_URL = 512;
/** Stops accepting without http.Server#close's closing of idle connections (see shutDown). */
const netServerClose = NetServer.prototype.close;
/** How often a shutdown looks for connections it may close. */
const DRAIN_TICK_MS = 25;
/** How long a keep-alive connection must be silent before a shutdown closes it (at most the keep-alive timeout). */
const DRAIN_QUIET_MS = 500;
const MAX_LOGGED_HEADER = 256;

/**
 * Serves an issuer's `.well-known/openid-configuration` and `keys.json` over HTTPS, as the
 * issuer itself: for clusters whose issuer lives on their owner's domain. The documents are read
 * (and with a key source, merged so that earlier keys stay served) before this resolves, then
 * kept current: a key source is read again every `refreshIntervalMs`, a directory whenever its
 * files change, the TLS certificate whenever its files change. Each change is swapped in whole,
 * so no request ever sees half of one.
 *
 * @throws {ServeError} `ERR_PLAIN_HTTP_REFUSED`, `ERR_DURATION_OUT_OF_RANGE`, `ERR_TLS_*`, `ERR_LISTEN_FAILED`,
 *   `ERR_DOCUMENTS_*`, and what reading the key source throws (`KeysError`, `PublishError`).
 *
 * @example
 * const server = await startIssuerServer({
 *   issuer: "https://oidc.example.com/prod",
 *   source: { kind: "keys", readKeys: () => publicKeysFromCluster({ cluster: "prod" }) },
 *   listen: { host: "0.0.0.0", port: 8443 },
 *   tls: { certFile: "tls.crt", keyFile: "tls.key" },
 *   log: (entry) => process.stderr.write(`${JSON.stringify(entry)}\n`),
 * });
 * process.once("SIGTERM", () => void server.close());
 */
export async function startIssuerServer(options: IssuerServerOptions): Promise<IssuerServer> {
  const issuer = validateIssuer(options.issuer);
  const host = options.listen?.host ?? "127.0.0.1";
  const port = options.listen?.port ?? 0;
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const tlsFiles = options.tls;
  if (tlsFiles === undefined && !isLoopbackHost(host) && !options.allowPlainHttp) {
    throw new ServeError(
      "ERR_PLAIN_HTTP_REFUSED",
      `refusing plain HTTP on ${formatHostPort(host, port)}, which is reachable from other machines: give a TLS certificate and key, or allow plain HTTP when a proxy in front terminates TLS`,
    );
  }
  const refreshIntervalMs = timerDuration("refreshIntervalMs", options.refreshIntervalMs ?? 30_000);
  const filePollIntervalMs = timerDuration("filePollIntervalMs", options.filePollIntervalMs ?? 10_000);
  const shutdownTimeoutMs = timerDuration("shutdownTimeoutMs", options.shutdownTimeoutMs ?? 10_000);
  const log = safeLogger(options.log);
  const loader = documentLoader(issuer, options.source);
  const runtime = new IssuerServerRuntime(issuer, loader, limits, log, tlsFiles);
  return runtime.start({
    host,
    port,
    refreshIntervalMs,
    filePollIntervalMs,
    shutdownTimeoutMs,
  });
}

/** Node's timers hold at most 2^31 - 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay Node's timers can hold: past 2^31 - 1 ms, Node fires after 1 ms instead, and prints a
 * TimeoutOverflowWarning on stderr, into a log meant to hold JSON lines only.
 */
function timerDuration(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new ServeError(
      "ERR_DURATION_OUT_OF_RANGE",
      `${name} must be from 0 to ${MAX_TIMER_MS} ms (Node's longest timer), not ${ms}`,
    );
  }
  return ms;
}

/** Everything that changes while the server runs, in one place. */
class IssuerServerRuntime {
  private current: IssuerDocuments | undefined;
  private unloggedDocuments: LoadedDocuments | undefined;
  private tlsMaterial: TlsMaterial | undefined;
  private shuttingDown = false;
  private closing: Promise<void> | undefined;
  private readonly sockets = new Set<Socket>();
  /**
   * Per connection that speaks HTTP (the TLS socket under HTTPS): its `bytesRead` when its last
   * answer was sent (or when it opened). More bytes since mean a request has begun to arrive.
   */
  private readonly bytesAtIdle = new WeakMap<Socket, number>();
  /** The open connections that speak HTTP: under HTTPS, those whose handshake is done. */
  private readonly httpConnections = new Set<Socket>();
  private readonly background: Array<{ close(): void }> = [];
  private documentsQueue: Promise<unknown> = Promise.resolve();
  private tlsQueue: Promise<unknown> = Promise.resolve();
  private server: HttpServer | HttpsServer | undefined;

  constructor(
    private readonly issuer: string,
    private readonly loader: DocumentLoader,
    private readonly limits: ServerLimits,
    private readonly log: ((entry: ServerLogEntry) => void) | undefined,
    private readonly tlsFiles: { certFile: string; keyFile: string } | undefined,
  ) {}

  async start(settings: {
    host: string;
    port: number;
    refreshIntervalMs: number;
    filePollIntervalMs: number;
    shutdownTimeoutMs: number;
  }): Promise<IssuerServer> {
    // Watch before the first read, so that a change made while it runs is not missed.
    this.watchSources(settings);
    try {
      if (this.tlsFiles) this.tlsMaterial = await readTlsMaterial(this.tlsFiles);
      await this.loadDocuments();
      this.server = this.createServer();
      await this.listen(this.server, settings.host, settings.port);
    } catch (error) {
      this.stopBackground();
      this.server?.close();
      throw error;
    }
    if (this.unloggedDocuments) this.logDocuments(this.unloggedDocuments);
    this.unloggedDocuments = undefined;
    const bound = this.server.address();
    if (bound === null || typeof bound === "string") throw new Error("the server has no TCP address");
    const address = { host: bound.address, port: bound.port };
    const url = `${this.tlsFiles ? "https" : "http"}://${formatHostPort(address.host, address.port)}`;
    const paths = documentRequestPaths(this.issuer);
    this.log?.({
      level: "info",
      event: "listening",
      url,
      issuer: this.issuer,
      paths: [paths.discovery, paths.jwks],
      tls: this.tlsFiles !== undefined,
    });
    const runtime = this;
    return {
      url,
      address,
      get documents() {
        return runtime.documents;
      },
      reload: () => this.reload(),
      close: (options) =>
        this.close(
          options?.timeoutMs === undefined
            ? settings.shutdownTimeoutMs
            : Math.min(Math.max(options.timeoutMs, 0), MAX_TIMER_MS),
        ),
    };
  }

  private get documents(): IssuerDocuments {
    if (!this.current) throw new Error("the documents are read before the server starts");
    return this.current;
  }

  private createServer(): HttpServer | HttpsServer {
    const { limits } = this;
    const common = {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above; by default only every 30 s.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, limits.headersTimeoutMs / 4)),
    };
    const handler = (request: IncomingMessage, response: ServerResponse) => this.answer(request, response);
    const server = this.tlsMaterial
      ? createHttpsServer(
          {
            ...common,
            ...secureContextOptions(this.tlsMaterial),
            handshakeTimeout: limits.handshakeTimeoutMs,
            // A client that offers ALPN must find its protocol here, or the handshake fails with
            // an alert instead of an HTTP answer (curl --http1.0 offers http/1.0).
            ALPNProtocols: ["http/1.1", "http/1.0"],
          },
          handler,
        )
      : createHttpServer(common, handler);
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      if (!this.tlsMaterial) this.trackHttpConnection(socket);
    });
    server.on("secureConnection", (socket: Socket) => this.trackHttpConnection(socket));
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
      this.answerClientError(error, socket as Socket),
    );
    // CONNECT is not a request for a document; without this, Node drops the connection unanswered.
    server.on("connect", (request: IncomingMessage, socket: Socket) => {
      this.logRequest(request, 405, 0);
      socket.end(
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      );
    });
    // A failed or timed-out handshake; with a listener here, closing the socket is ours to do.
    server.on("tlsClientError", (error: NodeJS.ErrnoException, socket: Socket) => {
      this.log?.({
        level: "info",
        event: "tls-client-error",
        code: error.code ?? "ERR_TLS",
        remoteAddress: socket.remoteAddress,
      });
      socket.destroy();
    });
    server.on("error", (error: NodeJS.ErrnoException) => {
      // Before it listens, the error is listen()'s own, and start() reports it.
      if (!server.listening) return;
      this.log?.({
        level: "error",
        event: "server-error",
        error: error.message,
        ...(error.code ? { code: error.code } : {}),
      });
    });
    return server;
  }

  private trackHttpConnection(socket: Socket): void {
    this.bytesAtIdle.set(socket, socket.bytesRead);
    this.httpConnections.add(socket);
    socket.once("close", () => this.httpConnections.delete(socket));
  }

  /** The hot path: everything it sends was computed when the documents were loaded. */
  private answer(request: IncomingMessage, response: ServerResponse): void {
    const headers = request.headers;
    let closeConnection = this.shuttingDown;
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
      if (chunked || !(Number(length) <= this.limits.maxBodyBytes)) answer = PAYLOAD_TOO_LARGE;
    }
    // Every prepared answer is a WireResponse; the public type only hides the wire detail.
    answer ??= issuerResponse(
      this.documents,
      { method: request.method, url: request.url, ifNoneMatch: headers["if-none-match"] },
      !this.shuttingDown,
    ) as WireResponse;
    const head = answer.headers as string[];
    response.writeHead(answer.status, closeConnection ? [...head, "connection", "close"] : head);
    if (answer.asciiBody !== undefined) response.end(answer.asciiBody, "latin1");
    else response.end(answer.body);
    // The whole answer is queued: the connection is idle until its next request's first byte.
    this.bytesAtIdle.set(request.socket, request.socket.bytesRead);
    if (this.log) {
      this.logRequest(request, answer.status, request.method === "HEAD" ? 0 : (answer.body?.length ?? 0));
    }
  }

  private logRequest(request: IncomingMessage, status: number, bytes: number): void {
    if (!this.log) return;
    const url = request.url ?? "";
    const forwardedFor = request.headers["x-forwarded-for"];
    const userAgent = request.headers["user-agent"];
    this.log({
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
  private answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
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
    this.log?.({ level: "info", event: "client-error", status, code, remoteAddress: socket.remoteAddress });
    const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!pending?.headersSent) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    }
    socket.destroySoon();
  }

  private async listen(server: HttpServer, host: string, port: number) {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const notHere = error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND";
        const reason =
          error.code === "EADDRINUSE"
            ? "the port is in use; pick another port or stop what holds it"
            : error.code === "EACCES"
              ? "permission denied; ports below 1024 need privileges, use a higher port"
              : notHere
                ? "no interface of this machine has that address; give one it has, or :PORT for all"
                : error.message;
        // An address the machine does not have is a mistake in --listen; a port in use is not.
        const code = notHere ? "ERR_LISTEN_ADDRESS_INVALID" : "ERR_LISTEN_FAILED";
        reject(
          new ServeError(code, `cannot listen on ${formatHostPort(host, port)}: ${reason}`, { cause: error }),
        );
      };
      server.once("error", onError);
      server.listen({ host: host === "" ? undefined : host, port }, () => {
        server.off("error", onError);
        resolve();
      });
    });
  }

  private watchSources(settings: { refreshIntervalMs: number; filePollIntervalMs: number }): void {
    // At most one background refresh waits at a time: an API server that hangs for its 30 s
    // timeout must not pile up a refresh per interval behind it.
    let documentsPending = false;
    let documentsAgain = false;
    const reloadDocumentsInBackground = () => {
      // A change noticed while a reload runs may have come after that reload read the source:
      // one more reload follows it, however many notices came meanwhile.
      if (documentsPending) {
        documentsAgain = true;
        return;
      }
      documentsPending = true;
      this.loadDocuments()
        .catch((error: unknown) =>
          this.log?.({ level: "warn", event: "documents-reload-failed", ...describeError(error) }),
        )
        .finally(() => {
          documentsPending = false;
          if (documentsAgain && !this.shuttingDown) {
            documentsAgain = false;
            reloadDocumentsInBackground();
          }
        });
    };
    if (this.loader.watchedFiles.length > 0) {
      this.background.push(
        watchFiles(this.loader.watchedFiles, reloadDocumentsInBackground, {
          intervalMs: settings.filePollIntervalMs,
        }),
      );
    }
    if (this.loader.watch) this.background.push(this.loader.watch(reloadDocumentsInBackground));
    if (this.loader.watchedFiles.length === 0 && settings.refreshIntervalMs > 0) {
      const timer = setInterval(reloadDocumentsInBackground, settings.refreshIntervalMs);
      timer.unref();
      this.background.push({ close: () => clearInterval(timer) });
    }
    if (this.tlsFiles) {
      const files = [this.tlsFiles.certFile, this.tlsFiles.keyFile];
      let tlsPending = false;
      const reloadTlsInBackground = () => {
        if (tlsPending) return;
        tlsPending = true;
        this.loadTls()
          .catch((error: unknown) =>
            this.log?.({ level: "warn", event: "tls-reload-failed", ...describeError(error) }),
          )
          .finally(() => {
            tlsPending = false;
          });
      };
      this.background.push(
        watchFiles(files, reloadTlsInBackground, { intervalMs: settings.filePollIntervalMs }),
      );
    }
  }

  private stopBackground(): void {
    for (const task of this.background.splice(0)) task.close();
  }

  private async reload(): Promise<ReloadOutcome> {
    const [documentsChanged, tlsChanged] = await Promise.all([this.loadDocuments(), this.loadTls()]);
    return { documentsChanged, tlsChanged };
  }

  /**
   * One load at a time, in order, the first one included, so that a change seen while a load
   * runs is read by the load after it. The new documents replace the old in one assignment.
   */
  private loadDocuments(): Promise<boolean> {
    const next = this.documentsQueue.then(async () => {
      if (this.shuttingDown) return false;
      const loaded = await this.loader.load();
      if (this.shuttingDown) return false;
      const before = this.current;
      const changed =
        before === undefined ||
        loaded.documents.jwks.etag !== before.jwks.etag ||
        loaded.documents.discovery.etag !== before.discovery.etag;
      if (!changed) return false;
      this.current = loaded.documents;
      // Before the server listens, the update is told once it does: a start that fails (a port in
      // use) then says so in one line, not after a line that suggests it started.
      if (this.server?.listening) this.logDocuments(loaded);
      else this.unloggedDocuments = loaded;
      return true;
    });
    this.documentsQueue = next.catch(() => {});
    return next;
  }

  private loadTls(): Promise<boolean> {
    const files = this.tlsFiles;
    if (!files) return Promise.resolve(false);
    const next = this.tlsQueue.then(async () => {
      const server = this.server;
      if (this.shuttingDown || !(server instanceof HttpsServer)) return false;
      const material = await readTlsMaterial(files);
      if (this.shuttingDown) return false;
      if (material.cert === this.tlsMaterial?.cert && material.key === this.tlsMaterial.key) return false;
      // New handshakes use the new certificate; connections already open keep theirs.
      server.setSecureContext(secureContextOptions(material));
      this.tlsMaterial = material;
      this.log?.({ level: "info", event: "tls-reloaded" });
      return true;
    });
    this.tlsQueue = next.catch(() => {});
    return next;
  }

  private logDocuments(loaded: LoadedDocuments): void {
    this.log?.({
      level: "info",
      event: "documents-updated",
      kids: [...loaded.documents.kids],
      ...(loaded.keys ?? {}),
      etag: loaded.documents.jwks.etag,
    });
  }

  private close(timeoutMs: number): Promise<void> {
    this.closing ??= this.shutDown(timeoutMs);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    const server = this.server;
    this.shuttingDown = true;
    this.stopBackground();
    if (!server) return;
    this.log?.({ level: "info", event: "shutdown-started", openConnections: this.sockets.size });
    let forcedConnections = 0;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        clearInterval(drain);
        forcedConnections = this.sockets.size;
        server.closeAllConnections();
        for (const socket of this.sockets) socket.destroy();
      }, timeoutMs);
      // Stop accepting, but not through server.close(): that also closes every connection Node
      // calls idle at once, and a keep-alive client may have sent its next request just then
      // (still in the kernel's buffer, or on the wire): it would go unanswered. Requests in flight
      // are answered with `Connection: close`, after which Node closes their connection; a
      // connection with nothing in flight is closed once it has been silent for a moment.
      netServerClose.call(server, () => {
        clearTimeout(force);
        clearInterval(drain);
        resolve();
      });
      const quietMs = Math.min(DRAIN_QUIET_MS, this.limits.keepAliveTimeoutMs);
      const seen = new Map<Socket, { bytes: number; since: number }>();
      const closeQuietConnections = () => {
        const now = Date.now();
        for (const socket of this.httpConnections) {
          const bytes = socket.bytesRead;
          const last = seen.get(socket);
          if (!last || last.bytes !== bytes) {
            seen.set(socket, { bytes, since: now });
            continue;
          }
          const idle = this.bytesAtIdle.get(socket) === bytes && socket.writableLength === 0;
          if (idle && now - last.since >= quietMs) socket.destroy();
        }
      };
      const drain = setInterval(closeQuietConnections, DRAIN_TICK_MS);
      closeQuietConnections();
    });
    // A reload still in flight (a slow API server) is not waited for: its result is dropped.
    this.log?.({ level: "info", event: "shutdown-complete", forcedConnections });
  }
}

function safeLogger(log: ServerLogger | undefined): ServerLogger | undefined {
  if (!log) return undefined;
  return (entry) => {
    try {
      log(entry);
    } catch {
      // A failing logger must not take a request or the server down with it.
    }
  };
}

function describeError(error: unknown): { error: string; code?: string } {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return { error: message.split("\n")[0] ?? message, ...(typeof code === "string" ? { code } : {}) };
}

function formatHostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

import { validateIssuer } from "@irsa-anywhere/discovery";
import type { DocumentSource } from "./document-source.js";
import { ServeError } from "./errors.js";
import { IssuerServerRuntime } from "./lib/issuer-server-runtime.js";
import { documentLoader } from "./lib/load-documents.js";
import { safeLogger } from "./lib/safe-logger.js";
import { timerDuration } from "./lib/timer-duration.js";
import { formatHostPort, isLoopbackHost, type ListenAddress } from "./listen-address.js";
import type { IssuerDocuments } from "./prepare-documents.js";
import type { ServerLogger } from "./server-log.js";

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

/** The limits a server has unless `IssuerServerOptions.limits` changes some of them. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxHeaderBytes: 8 * 1024,
  maxBodyBytes: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
});

/** What `startIssuerServer` serves (the issuer and its document source), where, and how. */
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

/** A running issuer server: where it listens, and how to reload or close it. */
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

import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { Server as NetServer, type Socket } from "node:net";

/** Stops accepting without http.Server#close's closing of idle connections (see drain). */
const netServerClose = NetServer.prototype.close;
/** How often a drain looks for connections it may close. */
const DRAIN_TICK_MS = 25;
/** How long a keep-alive connection must be silent before a drain closes it (at most the keep-alive timeout). */
const DRAIN_QUIET_MS = 500;

/**
 * @internal A server's open connections, followed from the moment they open, so that a shutdown
 * can tell a connection with a request on its way from one that is idle, and close only the latter.
 */
export class OpenConnections {
  private readonly sockets = new Set<Socket>();
  /**
   * Per connection that speaks HTTP (the TLS socket under HTTPS): its `bytesRead` when its last
   * answer was sent (or when it opened). More bytes since mean a request has begun to arrive.
   */
  private readonly bytesAtIdle = new WeakMap<Socket, number>();
  /** The open connections that speak HTTP: under HTTPS, those whose handshake is done. */
  private readonly httpConnections = new Set<Socket>();

  /** How many connections are open, handshakes under way included. */
  get size(): number {
    return this.sockets.size;
  }

  /** Follows every connection `server` accepts from now on. */
  follow(server: HttpServer | HttpsServer, tls: boolean): void {
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      if (!tls) this.followHttp(socket);
    });
    server.on("secureConnection", (socket: Socket) => this.followHttp(socket));
  }

  /** The whole answer is queued: the connection is idle until its next request's first byte. */
  answered(socket: Socket): void {
    this.bytesAtIdle.set(socket, socket.bytesRead);
  }

  /**
   * Stops `server` accepting and resolves once every connection is gone: requests in flight are
   * answered (with `Connection: close`, the caller's part), a connection with nothing in flight is
   * closed once it has been silent for a moment, and after `timeoutMs` the rest are cut.
   *
   * @returns how many connections were cut.
   */
  async drain(
    server: HttpServer | HttpsServer,
    options: { timeoutMs: number; keepAliveTimeoutMs: number },
  ): Promise<number> {
    let forcedConnections = 0;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        clearInterval(drain);
        forcedConnections = this.sockets.size;
        server.closeAllConnections();
        for (const socket of this.sockets) socket.destroy();
      }, options.timeoutMs);
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
      const quietMs = Math.min(DRAIN_QUIET_MS, options.keepAliveTimeoutMs);
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
    return forcedConnections;
  }

  private followHttp(socket: Socket): void {
    this.answered(socket);
    this.httpConnections.add(socket);
    socket.once("close", () => this.httpConnections.delete(socket));
  }
}

// A real HTTPS server on the loopback interface for tests, so that clients are exercised with
// their own TLS and HTTP stack instead of a mock.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { Socket } from "node:net";

/** Answers one request; a thrown error or rejected promise becomes a 500 (or a dropped connection). */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export interface HttpsServerOptions {
  /** The server's certificate (PEM), e.g. from `issueServerCertificate`. */
  cert: string;
  /** The server's private key (PEM). */
  key: string;
  /** When given, the server demands a client certificate signed by this CA (PEM) and refuses others. */
  clientCa?: string;
}

export interface RunningHttpsServer {
  /** `https://127.0.0.1:<port>`, with no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and destroys every open connection, so a test never waits on a keep-alive. */
  close(): Promise<void>;
}

/**
 * Starts an HTTPS server on 127.0.0.1 on a free port.
 *
 * @example
 * const tls = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
 * const server = await startHttpsServer((_req, res) => res.end("ok"), { cert: tls.certPem, key: tls.keyPem });
 * try { await fetch(server.url); } finally { await server.close(); }
 */
export async function startHttpsServer(
  handler: RequestHandler,
  options: HttpsServerOptions,
): Promise<RunningHttpsServer> {
  const server = createServer(
    {
      cert: options.cert,
      key: options.key,
      ...(options.clientCa === undefined
        ? {}
        : { ca: options.clientCa, requestCert: true, rejectUnauthorized: true }),
    },
    (request, response) => {
      Promise.resolve()
        .then(() => handler(request, response))
        .catch((error: unknown) => {
          if (response.headersSent) {
            response.destroy(error instanceof Error ? error : undefined);
            return;
          }
          response.writeHead(500, { "content-type": "text/plain" });
          response.end(
            `test server handler failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
    },
  );
  // Raw TCP sockets, so that connections still in the TLS handshake are closed too.
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the test server has no TCP port");
  let closing: Promise<void> | undefined;
  return {
    url: `https://127.0.0.1:${address.port}`,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

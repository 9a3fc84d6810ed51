import type { Server } from "node:net";
import { ServeError } from "../errors.js";
import { formatHostPort } from "../listen-address.js";

/**
 * @internal Starts `server` listening on `host:port` (an empty host: every interface).
 *
 * @throws {ServeError} `ERR_LISTEN_ADDRESS_INVALID` for an address this machine does not have,
 *   `ERR_LISTEN_FAILED` otherwise (a port in use, one that needs privileges).
 */
export async function listen(server: Server, host: string, port: number): Promise<void> {
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

import { isIP } from "node:net";
import { quoteInput } from "@irsa-anywhere/errors";
import { ServeError } from "./errors.js";

/** Where the server listens. An empty `host` means every interface. */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Reads `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface). Port 0 picks a free port.
 *
 * @throws {ServeError} `ERR_LISTEN_ADDRESS_INVALID`.
 *
 * @example
 * parseListenAddress("127.0.0.1:8443"); // { host: "127.0.0.1", port: 8443 }
 * parseListenAddress("[::]:8443");      // { host: "::", port: 8443 }
 */
export function parseListenAddress(text: string): ListenAddress {
  const fail = (): never => {
    throw new ServeError(
      "ERR_LISTEN_ADDRESS_INVALID",
      `listen address ${quoteInput(text)} is not HOST:PORT; write it like 127.0.0.1:8443, [::1]:8443 or :8443 (every interface)`,
    );
  };
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text);
  if (!match) return fail();
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port > 65_535) fail();
  if (match[1] !== undefined && isIP(host) !== 6) fail();
  return { host, port };
}

/**
 * Whether a listen host can be reached only from this machine: `localhost`, `127.0.0.0/8`,
 * `::1` (and `::ffff:127.x.y.z`). Every other host, and the empty host (every interface), is not.
 */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === "localhost" || lower === "::1") return true;
  const v4 = lower.startsWith("::ffff:") ? lower.slice("::ffff:".length) : lower;
  return isIP(v4) === 4 && v4.startsWith("127.");
}

/** @internal `host:port`, with an IPv6 host in brackets, as in a URL. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

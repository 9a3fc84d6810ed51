/**
 * The first line of an error's message, for a one-line report: client-node's and the TLS
 * layer's messages can run to many lines.
 *
 * @example
 * firstLine(new Error("connect ECONNREFUSED 127.0.0.1:6443\n    at …")); // "connect ECONNREFUSED 127.0.0.1:6443"
 */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? "unknown error";
}

/**
 * A wait, as messages name it: "300 ms", "5 s".
 *
 * @example
 * formatMs(5000); // "5 s"
 * formatMs(1500); // "1500 ms"
 */
export function formatMs(ms: number): string {
  return ms < 1000 || ms % 1000 !== 0 ? `${ms} ms` : `${ms / 1000} s`;
}

import type { ServerLogEntry } from "./server-log.js";

/**
 * One log entry as a JSON line, with `time` (ISO 8601) first and a final newline: what
 * `irsa-anywhere serve` writes to stderr. Request entries, nearly all of a busy server's log,
 * are written from a template rather than through a copy of the entry, which costs a third as
 * much; the bytes are those `JSON.stringify({ time, ...entry })` would give.
 *
 * @example
 * const server = await startIssuerServer({
 *   issuer: "https://oidc.example.com/prod",
 *   source: { kind: "directory", directory: "./site" },
 *   listen: { host: "0.0.0.0", port: 8443 },
 *   tls: { certFile: "tls.crt", keyFile: "tls.key" },
 *   log: (entry) => process.stderr.write(serverLogLine(entry)),
 * });
 * process.once("SIGTERM", () => void server.close());
 */
export function serverLogLine(entry: ServerLogEntry, time: string = isoTimeNow()): string {
  if (entry.event !== "request") return `{"time":${JSON.stringify(time)},${JSON.stringify(entry).slice(1)}\n`;
  const q = JSON.stringify;
  return `{"time":${q(time)},"level":${q(entry.level)},"event":"request","method":${q(entry.method)},"path":${q(entry.path)},"status":${entry.status},"bytes":${entry.bytes}${
    entry.remoteAddress === undefined ? "" : `,"remoteAddress":${q(entry.remoteAddress)}`
  }${entry.forwardedFor === undefined ? "" : `,"forwardedFor":${q(entry.forwardedFor)}`}${
    entry.userAgent === undefined ? "" : `,"userAgent":${q(entry.userAgent)}`
  }}\n`;
}

let lastMillisecond = Number.NaN;
let lastIsoTime = "";

/** The time now in ISO 8601, formatted once per millisecond however many lines share it. */
function isoTimeNow(): string {
  const now = Date.now();
  if (now !== lastMillisecond) {
    lastMillisecond = now;
    lastIsoTime = new Date(now).toISOString();
  }
  return lastIsoTime;
}

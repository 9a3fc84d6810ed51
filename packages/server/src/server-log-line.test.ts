import { describe, expect, it } from "vitest";
import { type ServerLogEntry, serverLogLine } from "./index.js";

const time = "2024-05-01T12:00:00.000Z";

const entries: ServerLogEntry[] = [
  {
    level: "info",
    event: "request",
    method: "GET",
    path: "/prod/keys.json",
    status: 200,
    bytes: 996,
    remoteAddress: "127.0.0.1",
    userAgent: "aws-sdk",
  },
  {
    level: "info",
    event: "request",
    method: "GET",
    path: '/"quoted"\\back\u0000\u001fé\u2028',
    status: 404,
    bytes: 10,
    remoteAddress: undefined,
    forwardedFor: "203.0.113.9, 10.0.0.1",
    userAgent: 'ua "with" quotes\n',
  },
  { level: "info", event: "request", method: "HEAD", path: "/", status: 200, bytes: 0, remoteAddress: "::1" },
  {
    level: "info",
    event: "listening",
    url: "https://[::]:8443",
    issuer: "https://x",
    paths: ["/a"],
    tls: true,
  },
  {
    level: "warn",
    event: "documents-reload-failed",
    error: 'cannot read "x"',
    code: "ERR_CLUSTER_UNREACHABLE",
  },
];

describe("serverLogLine", () => {
  it.each(entries)("gives exactly what JSON.stringify gives, time first: $event", (entry) => {
    const line = serverLogLine(entry, time);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(line).toBe(`${JSON.stringify({ time, ...entry })}\n`);
  });

  it("stamps the time now by default", () => {
    const before = Date.now();
    const stamped = Date.parse(JSON.parse(serverLogLine(entries[0] as ServerLogEntry)).time);
    expect(stamped).toBeGreaterThanOrEqual(before - 1);
    expect(stamped).toBeLessThanOrEqual(Date.now());
  });
});

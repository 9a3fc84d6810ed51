// `irsa-anywhere serve` as a user runs it: the built CLI in its own process, serving HTTPS with a
// certificate from a test CA to a real client, reading a fake Kubernetes API, stopped by signals.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { type Agent, request } from "node:https";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliPath } from "./support/cli.js";
import { type FakeKubernetes, signingKeySecret, startFakeKubernetes } from "./support/fake-kubernetes.js";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueServerCertificate,
} from "./support/tls.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = join(root, "packages/cli/dist/bundle/irsa-anywhere.cjs");
const issuer = "https://oidc.example.com/prod";
const jwksPath = "/prod/keys.json";
const discoveryPath = "/prod/.well-known/openid-configuration";

let dir: string;
let home: string;
let ca: CertificateAuthority;
let api: FakeKubernetes;
let kubeconfig: string;
let tlsArgs: string[];
let firstKey: ReturnType<typeof signingKeySecret>;
const children: ChildProcess[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  if (!existsSync(bundle)) await promisify(execFile)("pnpm", ["run", "build"], { cwd: root });
  dir = await mkdtemp(join(tmpdir(), "irsa-serve-test-"));
  // An empty home, so that no ~/.kube/config of the machine running the tests is ever read.
  home = join(dir, "home");
  await mkdir(home);
  ca = createCertificateAuthority();
  const tls = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
  await writeFile(join(dir, "tls.crt"), tls.certPem);
  await writeFile(join(dir, "tls.key"), tls.keyPem, { mode: 0o600 });
  tlsArgs = ["--tls-cert", join(dir, "tls.crt"), "--tls-key", join(dir, "tls.key")];
  api = await startFakeKubernetes(ca);
  kubeconfig = join(dir, "kubeconfig.yaml");
  await writeFile(kubeconfig, api.kubeconfig());
});

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
});

afterAll(async () => {
  await api?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface LogLine {
  event: string;
  level: string;
  time: string;
  [field: string]: unknown;
}

interface Serving {
  child: ChildProcess;
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  logs: LogLine[];
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const env = () => ({ PATH: process.env.PATH, HOME: home, NO_COLOR: "1" });

/** Starts `serve` and resolves once it says it listens; every line on stderr must be JSON. */
async function startServe(args: readonly string[]): Promise<Serving> {
  const child = spawn(process.execPath, [cliPath, "serve", ...args], { env: env() });
  children.push(child);
  const logs: LogLine[] = [];
  let stdout = "";
  let stderr = "";
  let partial = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk;
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) logs.push(JSON.parse(line) as LogLine);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 20_000;
  for (;;) {
    const listening = logs.find((line) => line.event === "listening");
    if (listening) {
      const url = String(listening.url);
      return { child, url, port: Number(new URL(url).port), logs, stdout: () => stdout, exited };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`serve did not start (exit ${child.exitCode}):\n${stderr}`);
    }
    await sleep(20);
  }
}

/** Runs a `serve` expected to fail at once; kills it if it starts serving instead. */
async function serveFailure(args: readonly string[]) {
  const child = spawn(process.execPath, [cliPath, "serve", ...args], { env: env() });
  children.push(child);
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr };
}

interface Fetched {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTPS client that trusts only the test CA. */
function fetchFrom(serving: Serving, path: string, options: { method?: string; agent?: Agent } = {}) {
  return new Promise<Fetched>((resolve, reject) => {
    const req = request(
      new URL(path, serving.url),
      { method: options.method ?? "GET", ca: ca.certPem, agent: options.agent ?? false },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** A raw TLS connection, for what no well-behaved client sends. */
async function openRaw(serving: Serving) {
  const socket: TLSSocket = connect({
    host: "127.0.0.1",
    port: serving.port,
    ca: ca.certPem,
    servername: "localhost",
  });
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    received += chunk;
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  return { socket, closed, received: () => received };
}

async function exchange(serving: Serving, text: string): Promise<string> {
  const raw = await openRaw(serving);
  raw.socket.write(text);
  await Promise.race([raw.closed, sleep(5_000)]);
  raw.socket.destroy();
  return raw.received();
}

const kidsOf = (body: string) =>
  (JSON.parse(body) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
const etagOf = (body: string) => `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
const clusterArgs = () => ["--cluster", "prod", "--kubeconfig", kubeconfig, "--issuer", issuer];

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

describe("irsa-anywhere serve", () => {
  beforeAll(() => {
    firstKey = signingKeySecret();
    api.setSecret("eksa-system", "prod-sa", firstKey.data);
  });

  it("serves the cluster's documents over HTTPS, logs each request as JSON on stderr, and nothing on stdout", async () => {
    const serving = await startServe([...clusterArgs(), ...tlsArgs, "--listen", "127.0.0.1:0"]);
    expect(serving.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const keys = await fetchFrom(serving, jwksPath);
    expect(keys.status).toBe(200);
    expect(kidsOf(keys.body)).toEqual([firstKey.kid, ""]);
    expect(keys.headers).toMatchObject({
      "content-type": "application/json",
      "cache-control": "public, max-age=300",
      etag: etagOf(keys.body),
    });
    expect(keys.body).not.toMatch(/PRIVATE|"d"/);
    const discovery = await fetchFrom(serving, discoveryPath);
    expect(JSON.parse(discovery.body)).toMatchObject({ issuer, jwks_uri: `${issuer}/keys.json` });
    expect((await fetchFrom(serving, "/healthz")).status).toBe(200);
    expect((await fetchFrom(serving, "/readyz")).status).toBe(200);

    await until(
      () => serving.logs.filter((line) => line.event === "request").length >= 4,
      "the request lines are flushed",
    );
    expect(serving.logs.find((line) => line.event === "request")).toMatchObject({
      level: "info",
      method: "GET",
      path: jwksPath,
      status: 200,
      bytes: Buffer.byteLength(keys.body),
      remoteAddress: "127.0.0.1",
    });
    for (const line of serving.logs) expect(Number.isNaN(Date.parse(line.time))).toBe(false);
    serving.child.kill("SIGTERM");
    expect(await serving.exited).toEqual({ code: 0, signal: null });
    expect(serving.stdout()).toBe("");
  });

  it("watches the secret: a rotated key is served at once, not at the next refresh", async () => {
    const rotated = signingKeySecret();
    api.setSecret("eksa-system", "prod-sa", firstKey.data);
    const serving = await startServe([
      ...clusterArgs(),
      ...tlsArgs,
      "--listen",
      "127.0.0.1:0",
      "--refresh-interval",
      "9m60s",
    ]);
    await until(() => api.watchers > 0, "serve watches the secret");
    api.setSecret("eksa-system", "prod-sa", rotated.data);
    // Ten minutes before the next refresh: only the watch can bring it in time.
    await until(
      async () => kidsOf((await fetchFrom(serving, jwksPath)).body).includes(rotated.kid),
      "the rotated key is served",
      5_000,
    );
    expect(kidsOf((await fetchFrom(serving, jwksPath)).body)).toEqual([rotated.kid, firstKey.kid, ""]);
    serving.child.kill("SIGTERM");
    expect(await serving.exited).toEqual({ code: 0, signal: null });
    expect(serving.logs.filter((line) => line.level !== "info")).toEqual([]);
    api.setSecret("eksa-system", "prod-sa", firstKey.data);
  });

  it("without permission to watch the secret, says so and keeps serving from its refresh", async () => {
    const collection = "/api/v1/namespaces/eksa-system/secrets";
    api.forbidden.add(collection);
    try {
      const serving = await startServe([...clusterArgs(), ...tlsArgs, "--listen", "127.0.0.1:0"]);
      await until(() => serving.logs.some((line) => line.event === "secret-watch-failed"), "the watch fails");
      expect(serving.logs.find((line) => line.event === "secret-watch-failed")).toMatchObject({
        level: "warn",
        error: expect.stringMatching(
          /cannot watch secret eksa-system\/prod-sa: .*\(HTTP 403\); grant "watch"/,
        ),
      });
      expect((await fetchFrom(serving, jwksPath)).status).toBe(200);
      serving.child.kill("SIGTERM");
      expect(await serving.exited).toEqual({ code: 0, signal: null });
    } finally {
      api.forbidden.delete(collection);
    }
  });

  it("with --cluster-jwks, follows the keys the API server verifies with through a rotation", async () => {
    const next = signingKeySecret();
    api.setJwks([firstKey.publicKey]);
    try {
      const serving = await startServe([
        "--cluster-jwks",
        "--kubeconfig",
        kubeconfig,
        "--issuer",
        issuer,
        ...tlsArgs,
        "--listen",
        "127.0.0.1:0",
        "--refresh-interval",
        "0.2",
      ]);
      expect(kidsOf((await fetchFrom(serving, jwksPath)).body)).toEqual([firstKey.kid, ""]);
      // A rotation as the API server sees it: the new key verifies beside the old, then alone.
      api.setJwks([next.publicKey, firstKey.publicKey]);
      await until(
        async () => (await fetchFrom(serving, jwksPath)).body.includes(next.kid),
        "the new key is served",
      );
      api.setJwks([next.publicKey]);
      // Two refreshes after the old key left the API server, rather than a sleep that hopes for them.
      const jwksReads = () => api.requests.filter((r) => r.path === "/openid/v1/jwks").length;
      const readsBefore = jwksReads();
      await until(() => jwksReads() >= readsBefore + 2, "the server has refreshed twice");
      expect(kidsOf((await fetchFrom(serving, jwksPath)).body)).toEqual([next.kid, firstKey.kid, ""]);
    } finally {
      api.setJwks(undefined);
    }
  });

  it("on SIGTERM, finishes the request in flight, refuses new connections and exits 0", async () => {
    const serving = await startServe([...clusterArgs(), ...tlsArgs, "--listen", "127.0.0.1:0"]);
    const inFlight = await openRaw(serving);
    inFlight.socket.write(`GET ${jwksPath} HTTP/1.1\r\nHost: localhost\r\n`);
    await sleep(200);

    serving.child.kill("SIGTERM");
    await until(() => serving.logs.some((line) => line.event === "shutdown-started"), "shutdown starts");
    await expect(fetchFrom(serving, jwksPath)).rejects.toThrow(/ECONNREFUSED/);
    expect(serving.child.exitCode).toBeNull();

    inFlight.socket.write("\r\n");
    await inFlight.closed;
    const response = inFlight.received();
    expect(response.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect(response.toLowerCase()).toContain("connection: close");
    expect(kidsOf(response.slice(response.indexOf("\r\n\r\n") + 4))).toContain(firstKey.kid);
    expect(await serving.exited).toEqual({ code: 0, signal: null });
    expect(serving.logs.map((line) => line.event).slice(-4)).toEqual([
      "signal",
      "shutdown-started",
      "request",
      "shutdown-complete",
    ]);
    expect(serving.logs.at(-1)).toMatchObject({ forcedConnections: 0 });
  });

  it("cuts a client that never finishes once --shutdown-timeout has passed, and still exits 0", async () => {
    const serving = await startServe([
      ...clusterArgs(),
      ...tlsArgs,
      "--listen",
      "127.0.0.1:0",
      "--shutdown-timeout",
      "0.5",
    ]);
    const stuck = await openRaw(serving);
    stuck.socket.write(`GET ${jwksPath} HTTP/1.1\r\n`);
    await sleep(100);
    serving.child.kill("SIGTERM");
    expect(await serving.exited).toEqual({ code: 0, signal: null });
    await stuck.closed;
    expect(serving.logs.at(-1)).toMatchObject({ event: "shutdown-complete", forcedConnections: 1 });
  });

  // Which status each malformed request gets is the library's (packages/server); here, that the
  // CLI logs them as JSON lines on stderr, whatever a client sends, and keeps serving.
  it("logs malformed requests as JSON lines and keeps serving", async () => {
    const serving = await startServe([...clusterArgs(), ...tlsArgs, "--listen", "127.0.0.1:0"]);
    const huge = await exchange(
      serving,
      `GET ${jwksPath} HTTP/1.1\r\nHost: a\r\nX-Huge: ${"h".repeat(64 * 1024)}\r\n\r\n`,
    );
    expect(huge.split("\r\n")[0]).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    const climbing = await exchange(
      serving,
      "GET /prod/..%2fprod/keys.json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    expect(climbing.split("\r\n")[0]).toBe("HTTP/1.1 404 Not Found");
    // What a client sends lands in the log as valid JSON (every line is parsed as it arrives).
    const odd = await exchange(
      serving,
      `GET /prod/"odd"\\path HTTP/1.1\r\nHost: a\r\nUser-Agent: "quoted" \\ \u00e9\u0001\r\nConnection: close\r\n\r\n`,
    );
    expect(odd.split("\r\n")[0]).toMatch(/^HTTP\/1\.1 (400|404) /);
    const after = await fetchFrom(serving, jwksPath);
    expect(after.status).toBe(200);
    expect(serving.child.exitCode).toBeNull();
    serving.child.kill("SIGTERM");
    expect(await serving.exited).toEqual({ code: 0, signal: null });
    expect(serving.logs.filter((line) => line.event === "request").map((line) => line.status)).toContain(404);
    expect(serving.logs.filter((line) => line.event === "client-error").map((line) => line.status)).toContain(
      431,
    );
  });

  // Picking up a new publish is the library's (packages/server): here, that --dir serves the site.
  it("serves what publish --out-dir wrote", async () => {
    const site = join(dir, "site");
    const keyFile = join(dir, "first.pub");
    await writeFile(keyFile, firstKey.data["tls.crt"] ?? "");
    await promisify(execFile)(
      process.execPath,
      [cliPath, "publish", "--key", keyFile, "--issuer", issuer, "--out-dir", site],
      { env: env() },
    );
    const serving = await startServe([
      "--dir",
      site,
      "--issuer",
      issuer,
      ...tlsArgs,
      "--listen",
      "127.0.0.1:0",
    ]);
    expect(kidsOf((await fetchFrom(serving, jwksPath)).body)).toEqual([firstKey.kid, ""]);
  });
});

describe("irsa-anywhere serve refuses to start", () => {
  let keyFile: string;
  beforeAll(async () => {
    keyFile = join(dir, "usage.pub");
    await writeFile(keyFile, firstKey.data["tls.crt"] ?? "");
    await mkdir(join(dir, "empty"), { recursive: true });
  });

  it.each([
    ["no key source and no --dir", ["--issuer", issuer], /say where the documents come from/],
    [
      "--tls-cert without --tls-key",
      ["--key", "x.pub", "--issuer", issuer, "--tls-cert", "x.crt"],
      /go together/,
    ],
    [
      "plain HTTP on every interface",
      ["--key", "KEY", "--issuer", issuer, "--listen", ":0"],
      /refusing plain HTTP on :0.*--tls-cert FILE and --tls-key FILE, or --plain-http/,
    ],
    [
      "plain HTTP on 0.0.0.0",
      ["--key", "KEY", "--issuer", issuer, "--listen", "0.0.0.0:0"],
      /refusing plain HTTP on 0\.0\.0\.0:0.*--tls-cert FILE and --tls-key FILE, or --plain-http/,
    ],
    [
      "a listen address without a port",
      ["--key", "KEY", "--issuer", issuer, "--listen", "127.0.0.1"],
      /HOST:PORT/,
    ],
    ["an http:// issuer", ["--key", "KEY", "--issuer", "http://oidc.example.com"], /https/],
    [
      "a zero refresh interval",
      ["--key", "KEY", "--issuer", issuer, "--refresh-interval", "0"],
      /--refresh-interval/,
    ],
    [
      "a refresh interval past Node's longest timer",
      ["--key", "KEY", "--issuer", issuer, "--refresh-interval", "25d"],
      /--refresh-interval takes a duration above 0 up to 24d20h31m23s/,
    ],
    [
      "a shutdown timeout past Node's longest timer, in seconds",
      ["--key", "KEY", "--issuer", issuer, "--shutdown-timeout", "2147484"],
      /--shutdown-timeout takes a duration from 0 up to 24d20h31m23s/,
    ],
    [
      "a shutdown timeout that is not a duration",
      ["--key", "KEY", "--issuer", issuer, "--shutdown-timeout", "soon"],
      /--shutdown-timeout takes a duration/,
    ],
    ["a directory with nothing published", ["--dir", "EMPTY", "--issuer", issuer], /publish --issuer/],
    ["a --dir that is a file", ["--dir", "KEY", "--issuer", issuer], /write the documents first/],
    [
      "a listen address this machine does not have",
      ["--key", "KEY", "--issuer", issuer, "--plain-http", "--listen", "192.0.2.1:8080"],
      /no interface of this machine has that address/,
    ],
    [
      "a TLS key that is not the certificate's",
      ["--key", "KEY", "--issuer", issuer, "--tls-cert", "CERT", "--tls-key", "KEY"],
      /cannot use/,
    ],
  ])("with %s: exit 2 and one line", async (_, args, message) => {
    const resolved = args.map((arg) =>
      arg === "KEY"
        ? keyFile
        : arg === "EMPTY"
          ? join(dir, "empty")
          : arg === "CERT"
            ? join(dir, "tls.crt")
            : arg,
    );
    // A free port, unless the case is about the listen address.
    if (!resolved.includes("--listen")) resolved.push("--listen", "127.0.0.1:0");
    const result = await serveFailure(resolved);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("exits 1 when the port is taken", async () => {
    const port = new URL(api.url).port;
    const result = await serveFailure([
      "--key",
      keyFile,
      "--issuer",
      issuer,
      "--listen",
      `127.0.0.1:${port}`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("ends at once on SIGTERM while it waits for an API server that does not answer", async () => {
    // Accepts the connection and never answers, not even the TLS handshake.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    const { port } = silent.address() as AddressInfo;
    const silentKubeconfig = join(dir, "silent.kubeconfig");
    await writeFile(
      silentKubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`,
    );
    const connected = new Promise<void>((resolve) => silent.once("connection", () => resolve()));
    const child = spawn(
      process.execPath,
      [cliPath, "serve", "--cluster-jwks", "--kubeconfig", silentKubeconfig, "--issuer", issuer],
      { env: env() },
    );
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    try {
      await connected;
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once("exit", (_, signal) => resolve(signal)),
      );
      child.kill("SIGTERM");
      // Not after the start's 30 s timeout: the test's own timeout would fail first.
      expect(await exited).toBe("SIGTERM");
      expect(JSON.parse(stderr.trim())).toMatchObject({ event: "signal", signal: "SIGTERM" });
    } finally {
      silent.close();
    }
  }, 15_000);

  it("exits 1 when the cluster cannot be read at start", async () => {
    api.failWith(500);
    try {
      const result = await serveFailure([...clusterArgs(), "--listen", "127.0.0.1:0"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/cannot read secret eksa-system\/prod-sa/);
    } finally {
      api.failWith(undefined);
    }
  });
});

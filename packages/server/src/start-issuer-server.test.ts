import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { type Agent, request as httpRequest, type IncomingHttpHeaders, STATUS_CODES } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { connect as connectTcp, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as connectTls, type TLSSocket } from "node:tls";
import { kidForPublicKey, type PublicSigningKey, publicKeysFromPem } from "@irsa-anywhere/keys";
import { KubeError } from "@irsa-anywhere/kube";
import { directoryTarget, publishDocuments } from "@irsa-anywhere/publisher";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueServerCertificate,
} from "../../../test/support/tls.js";
import {
  type IssuerServer,
  type IssuerServerOptions,
  type ServeErrorCode,
  type ServerLogEntry,
  startIssuerServer,
} from "./index.js";

const issuer = "https://oidc.example.com/prod";
const jwksPath = "/prod/keys.json";
const discoveryPath = "/prod/.well-known/openid-configuration";

interface TestKey {
  kid: string;
  keys: PublicSigningKey[];
}

/** A signing key as a cluster holds it (the private key), EC for speed: one per test. */
function newKey(): TestKey {
  const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    kid: kidForPublicKey(pair.publicKey),
    keys: publicKeysFromPem(pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string, "sa.key"),
  };
}

let dir: string;
let ca: CertificateAuthority;
let certFile: string;
let keyFile: string;
const servers: IssuerServer[] = [];
const sockets: Socket[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-server-test-"));
  ca = createCertificateAuthority();
  const tls = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
  certFile = join(dir, "tls.crt");
  keyFile = join(dir, "tls.key");
  await writeFile(certFile, tls.certPem);
  await writeFile(keyFile, tls.keyPem, { mode: 0o600 });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const agent of agents.splice(0)) agent.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close({ timeoutMs: 0 })));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts a server that the test's clean-up closes; plain HTTP on loopback unless `tls` is given. */
async function start(options: Partial<IssuerServerOptions> & Pick<IssuerServerOptions, "source">) {
  const log: ServerLogEntry[] = [];
  const server = await startIssuerServer({ issuer, log: (entry) => log.push(entry), ...options });
  servers.push(server);
  return { server, log };
}

const tlsFiles = () => ({ certFile, keyFile });
const keysSource = (read: () => PublicSigningKey[]) => ({ kind: "keys" as const, readKeys: read });

interface Fetched {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The serial number of the certificate the server presented (TLS only). */
  certificateSerial?: string;
}

/** A real client: Node's http(s) stack, trusting only the test CA. */
function fetchFrom(
  server: IssuerServer,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    agent?: Agent | undefined;
    trustCa?: boolean;
  } = {},
): Promise<Fetched> {
  const url = new URL(path, server.url);
  const secure = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: options.method ?? "GET",
        headers: options.headers,
        agent: options.agent ?? false,
        ...(secure && options.trustCa !== false ? { ca: ca.certPem } : {}),
      },
      (response) => {
        const certificateSerial = secure
          ? (response.socket as TLSSocket).getPeerCertificate().serialNumber
          : undefined;
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body,
            ...(certificateSerial ? { certificateSerial } : {}),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end();
  });
}

/** A raw connection, for requests no well-behaved client would send. */
async function openRaw(server: IssuerServer, tls = false) {
  const { port } = server.address;
  const socket: Socket = tls
    ? connectTls({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" })
    : connectTcp({ host: "127.0.0.1", port });
  sockets.push(socket);
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    received += chunk;
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once(tls ? "secureConnect" : "connect", () => resolve());
    socket.once("error", reject);
  });
  return { socket, closed, received: () => received };
}

/** Sends raw bytes on a new connection and returns all the server answered before it closed. */
async function exchange(server: IssuerServer, data: string | Buffer): Promise<string> {
  const raw = await openRaw(server);
  raw.socket.write(data);
  await Promise.race([raw.closed, sleep(5_000)]);
  return raw.received();
}

const statusLine = (response: string) => response.split("\r\n")[0];
const etagOf = (body: string) => `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

async function failure(promise: Promise<unknown>): Promise<{ code: ServeErrorCode; isInputError: boolean }> {
  const error = await promise.then(
    () => {
      throw new Error("expected the server not to start");
    },
    (reason: unknown) => reason as Error & { code: ServeErrorCode; isInputError: boolean },
  );
  expect(error.message).not.toContain("\n");
  return error;
}

describe("startIssuerServer over TLS", () => {
  it("serves both documents to a client that trusts the CA, and fails one that does not", async () => {
    const key = newKey();
    const { server, log } = await start({ source: keysSource(() => key.keys), tls: tlsFiles() });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const keys = await fetchFrom(server, jwksPath);
    expect(keys.status).toBe(200);
    expect(keys.headers["content-type"]).toBe("application/json");
    expect(keys.headers["cache-control"]).toBe("public, max-age=300");
    expect(keys.headers.etag).toBe(etagOf(keys.body));
    expect(JSON.parse(keys.body).keys.map((k: { kid: string }) => k.kid)).toEqual([key.kid, ""]);
    const discovery = await fetchFrom(server, discoveryPath);
    expect(JSON.parse(discovery.body)).toMatchObject({ issuer, jwks_uri: `${issuer}/keys.json` });

    await expect(fetchFrom(server, jwksPath, { trustCa: false })).rejects.toThrow(/certificate/);
    expect(log.find((entry) => entry.event === "listening")).toMatchObject({ url: server.url, tls: true });
    expect(log.filter((entry) => entry.event === "request")).toEqual([
      expect.objectContaining({ method: "GET", path: jwksPath, status: 200, remoteAddress: "127.0.0.1" }),
      expect.objectContaining({ method: "GET", path: discoveryPath, status: 200 }),
    ]);
  });

  it("answers a client that offers http/1.0 by ALPN (curl --http1.0), rather than a TLS alert", async () => {
    const key = newKey();
    const { server } = await start({ source: keysSource(() => key.keys), tls: tlsFiles() });
    const socket = connectTls({
      host: "127.0.0.1",
      port: Number(new URL(server.url).port),
      ca: ca.certPem,
      servername: "localhost",
      ALPNProtocols: ["http/1.0"],
    });
    sockets.push(socket);
    let answer = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      answer += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => {
        socket.write(`GET ${jwksPath} HTTP/1.0\r\n\r\n`);
        resolve();
      });
      socket.once("error", reject);
    });
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    expect(statusLine(answer)).toBe("HTTP/1.1 200 OK");
  });

  it("answers 304 to If-None-Match and HEAD without a body", async () => {
    const key = newKey();
    const { server } = await start({ source: keysSource(() => key.keys), tls: tlsFiles() });
    const first = await fetchFrom(server, jwksPath);
    const etag = String(first.headers.etag);

    const revalidated = await fetchFrom(server, jwksPath, { headers: { "if-none-match": etag } });
    expect(revalidated).toMatchObject({ status: 304, body: "" });
    expect(revalidated.headers.etag).toBe(etag);
    const head = await fetchFrom(server, jwksPath, { method: "HEAD" });
    expect(head).toMatchObject({ status: 200, body: "" });
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(first.body)));
  });

  it("picks up a rotated key without dropping or tearing a request, and keeps the previous key", async () => {
    const before = newKey();
    const after = newKey();
    let current = before;
    const { server, log } = await start({
      source: keysSource(() => current.keys),
      tls: tlsFiles(),
      refreshIntervalMs: 50,
    });
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 4, ca: ca.certPem });
    agents.push(agent);
    const seen: Fetched[] = [];
    let rotated = false;
    const client = async () => {
      while (!rotated || seen.filter((r) => r.body.includes(after.kid)).length < 20) {
        const path = seen.length % 3 === 0 ? discoveryPath : jwksPath;
        seen.push(await fetchFrom(server, path, { agent: seen.length % 2 === 0 ? agent : undefined }));
      }
    };
    const clients = Promise.all([client(), client(), client(), client()]);
    await until(() => seen.length >= 20, "requests are answered with the first key");
    current = after;
    rotated = true;
    await clients;

    // Every answer whole: a 200 whose ETag is that of its own body, never half of an update.
    for (const response of seen) {
      expect(response.status).toBe(200);
      expect(response.headers.etag).toBe(etagOf(response.body));
      JSON.parse(response.body);
    }
    const kids = (await fetchFrom(server, jwksPath)).body;
    expect(JSON.parse(kids).keys.map((k: { kid: string }) => k.kid)).toEqual([after.kid, before.kid, ""]);
    expect(log.filter((entry) => entry.event === "documents-updated")).toEqual([
      expect.objectContaining({ kids: [before.kid], current: before.kid, added: [before.kid] }),
      expect.objectContaining({ kids: [after.kid, before.kid], current: after.kid, retained: [before.kid] }),
    ]);
  });

  it("keeps serving what it had when a refresh fails, and logs why", async () => {
    const key = newKey();
    let broken = false;
    const { server, log } = await start({
      source: {
        kind: "keys",
        readKeys: () => {
          if (broken)
            throw new KubeError("ERR_CLUSTER_UNREACHABLE", "cannot read secret eksa-system/prod-sa");
          return key.keys;
        },
      },
      tls: tlsFiles(),
    });
    const served = (await fetchFrom(server, jwksPath)).body;
    broken = true;
    await expect(server.reload()).rejects.toMatchObject({ code: "ERR_CLUSTER_UNREACHABLE" });
    expect((await fetchFrom(server, jwksPath)).body).toBe(served);
    broken = false;
    expect(await server.reload()).toEqual({ documentsChanged: false, tlsChanged: false });
    expect(log.some((entry) => entry.event === "documents-reload-failed")).toBe(false);
  });

  it("logs a failed background refresh and goes on", async () => {
    let calls = 0;
    const key = newKey();
    const { server, log } = await start({
      source: {
        kind: "keys",
        readKeys: () => {
          calls += 1;
          if (calls === 2) throw new KubeError("ERR_CLUSTER_FORBIDDEN", "refused (HTTP 403)");
          return key.keys;
        },
      },
      refreshIntervalMs: 30,
    });
    await until(() => calls >= 3, "the refresh after the failure ran");
    expect(log).toContainEqual({
      level: "warn",
      event: "documents-reload-failed",
      error: "refused (HTTP 403)",
      code: "ERR_CLUSTER_FORBIDDEN",
    });
    expect((await fetchFrom(server, jwksPath)).status).toBe(200);
  });

  it("reloads the certificate when its files are replaced: new connections get the new one", async () => {
    const ownDir = await mkdtemp(join(dir, "reload-"));
    const files = { certFile: join(ownDir, "tls.crt"), keyFile: join(ownDir, "tls.key") };
    const first = issueServerCertificate(ca, { hosts: ["127.0.0.1"] });
    await writeFile(files.certFile, first.certPem);
    await writeFile(files.keyFile, first.keyPem);
    const key = newKey();
    const { server, log } = await start({
      source: keysSource(() => key.keys),
      tls: files,
      filePollIntervalMs: 200,
    });
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: ca.certPem });
    agents.push(agent);
    const oldSerial = (await fetchFrom(server, jwksPath, { agent })).certificateSerial;

    // As a Kubernetes secret volume or cert-manager does it: new files renamed into place.
    const second = issueServerCertificate(ca, { hosts: ["127.0.0.1"] });
    await writeFile(`${files.keyFile}.new`, second.keyPem);
    await writeFile(`${files.certFile}.new`, second.certPem);
    await rename(`${files.keyFile}.new`, files.keyFile);
    await rename(`${files.certFile}.new`, files.certFile);

    await until(async () => {
      const serial = (await fetchFrom(server, jwksPath)).certificateSerial;
      return serial !== undefined && serial !== oldSerial;
    }, "a new connection is served with the new certificate");
    expect(log.some((entry) => entry.event === "tls-reloaded")).toBe(true);
    // The connection opened before keeps working.
    expect(await fetchFrom(server, jwksPath, { agent })).toMatchObject({
      status: 200,
      certificateSerial: oldSerial,
    });
  });

  it("refuses TLS files that are missing or do not belong together", async () => {
    const key = newKey();
    const other = issueServerCertificate(ca, { hosts: ["127.0.0.1"] });
    const otherKey = join(dir, "other.key");
    await writeFile(otherKey, other.keyPem);
    const cases: Array<[{ certFile: string; keyFile: string }, ServeErrorCode]> = [
      [{ certFile: join(dir, "absent.crt"), keyFile }, "ERR_TLS_FILES_UNREADABLE"],
      [{ certFile, keyFile: otherKey }, "ERR_TLS_INVALID"],
      [{ certFile: keyFile, keyFile }, "ERR_TLS_INVALID"],
    ];
    for (const [tls, code] of cases) {
      const error = await failure(startIssuerServer({ issuer, source: keysSource(() => key.keys), tls }));
      expect(error).toMatchObject({ code, isInputError: true });
    }
  });
});

describe("startIssuerServer's sources and listeners", () => {
  it("serves a directory that publish wrote, and picks up a new publish", async () => {
    const site = await mkdtemp(join(dir, "site-"));
    const first = newKey();
    const second = newKey();
    await publishDocuments({ issuer, keys: first.keys, target: directoryTarget(site) });
    const { server } = await start({
      source: { kind: "directory", directory: site },
      filePollIntervalMs: 200,
    });
    expect((await fetchFrom(server, jwksPath)).body).toContain(first.kid);

    await publishDocuments({ issuer, keys: second.keys, target: directoryTarget(site) });
    await until(
      async () => (await fetchFrom(server, jwksPath)).body.includes(second.kid),
      "the new publish is served",
    );
    const kids = JSON.parse((await fetchFrom(server, jwksPath)).body).keys.map((k: { kid: string }) => k.kid);
    expect(kids).toEqual([second.kid, first.kid, ""]);
    // The publisher's private state beside keys.json is never served.
    expect((await fetchFrom(server, "/prod/.irsa-anywhere-state.json")).status).toBe(404);
  });

  it("serves a percent-encoded issuer's directory: files at the decoded path, requests as STS sends them", async () => {
    const site = await mkdtemp(join(dir, "site-"));
    const encoded = "https://oidc.example.com/c%34";
    const key = newKey();
    await publishDocuments({ issuer: encoded, keys: key.keys, target: directoryTarget(site) });
    // Where a static server would look for /c%34/keys.json.
    expect(await readFile(join(site, "c4", "keys.json"), "utf8")).toContain(key.kid);
    const { server } = await start({ issuer: encoded, source: { kind: "directory", directory: site } });
    expect((await fetchFrom(server, "/c%34/keys.json")).body).toContain(key.kid);
    expect((await fetchFrom(server, "/c%34/.well-known/openid-configuration")).status).toBe(200);
  });

  it("keeps a key source's documents in a directory store, so a restart keeps earlier keys", async () => {
    const store = await mkdtemp(join(dir, "store-"));
    const first = newKey();
    const second = newKey();
    const one = await start({ source: { ...keysSource(() => first.keys), store: directoryTarget(store) } });
    await one.server.close();
    const two = await start({ source: { ...keysSource(() => second.keys), store: directoryTarget(store) } });
    const kids = JSON.parse((await fetchFrom(two.server, jwksPath)).body).keys.map(
      (k: { kid: string }) => k.kid,
    );
    expect(kids).toEqual([second.kid, first.kid, ""]);
  });

  it("refuses a directory without the documents, or with another issuer's", async () => {
    const empty = await mkdtemp(join(dir, "empty-"));
    expect(
      await failure(startIssuerServer({ issuer, source: { kind: "directory", directory: empty } })),
    ).toMatchObject({ code: "ERR_DOCUMENTS_NOT_FOUND", isInputError: true });

    const foreign = await mkdtemp(join(dir, "foreign-"));
    await publishDocuments({
      issuer: "https://other.example.com/prod",
      keys: newKey().keys,
      target: directoryTarget(foreign),
    });
    expect(
      await failure(startIssuerServer({ issuer, source: { kind: "directory", directory: foreign } })),
    ).toMatchObject({ code: "ERR_DOCUMENTS_INVALID", isInputError: true });
  });

  it("refuses plain HTTP on an address other machines reach, unless allowed", async () => {
    const key = newKey();
    expect(
      await failure(
        startIssuerServer({ issuer, source: keysSource(() => key.keys), listen: { host: "0.0.0.0" } }),
      ),
    ).toMatchObject({ code: "ERR_PLAIN_HTTP_REFUSED", isInputError: true });

    const { server } = await start({
      source: keysSource(() => key.keys),
      listen: { host: "0.0.0.0", port: 0 },
      allowPlainHttp: true,
    });
    const local = { ...server, url: `http://127.0.0.1:${server.address.port}` } as IssuerServer;
    expect((await fetchFrom(local, jwksPath)).status).toBe(200);
  });

  it.each([
    ["refreshIntervalMs", 2 ** 31],
    ["filePollIntervalMs", -1],
    ["shutdownTimeoutMs", Number.POSITIVE_INFINITY],
  ])("refuses a %s of %d that Node's timers cannot hold", async (name, ms) => {
    const key = newKey();
    expect(
      await failure(startIssuerServer({ issuer, source: keysSource(() => key.keys), [name]: ms })),
    ).toMatchObject({ code: "ERR_DURATION_OUT_OF_RANGE", isInputError: true });
  });

  it("says so when the port is taken (a failure at run time, not of input)", async () => {
    const key = newKey();
    const { server } = await start({ source: keysSource(() => key.keys) });
    expect(
      await failure(
        startIssuerServer({
          issuer,
          source: keysSource(() => key.keys),
          listen: { port: server.address.port },
        }),
      ),
    ).toMatchObject({ code: "ERR_LISTEN_FAILED", isInputError: false });
  });

  it("passes on the key source's own errors", async () => {
    const error = await failure(
      startIssuerServer({ issuer, source: keysSource(() => []), listen: { port: 0 } }),
    );
    expect(error).toMatchObject({ code: "ERR_KEY_NOT_FOUND", isInputError: true });
  });
});

describe("startIssuerServer and misbehaving clients", () => {
  const limits = {
    headersTimeoutMs: 400,
    requestTimeoutMs: 400,
    handshakeTimeoutMs: 400,
    maxHeaderBytes: 4096,
  };

  it.each([
    {
      what: "headers larger than allowed",
      request: `GET ${jwksPath} HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(8192)}\r\n\r\n`,
      status: 431,
    },
    {
      what: "a method HTTP does not know",
      request: `FROB ${jwksPath} HTTP/1.1\r\nHost: a\r\n\r\n`,
      status: 400,
    },
    { what: "no Host header in HTTP/1.1", request: `GET ${jwksPath} HTTP/1.1\r\n\r\n`, status: 400 },
    { what: "garbage", request: "\u0000\u0001\u0002 hello\r\n\r\n", status: 400 },
    {
      what: "CONNECT",
      request: "CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n",
      status: 405,
    },
    {
      what: "a body larger than allowed",
      request: `POST ${jwksPath} HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n${"x".repeat(100)}`,
      status: 413,
    },
    {
      what: "a body of unknown length",
      request: `PUT ${jwksPath} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`,
      status: 413,
    },
    {
      what: "a small body on a document",
      request: `POST ${jwksPath} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}`,
      status: 405,
    },
    {
      what: "HTTP/2.0 on the request line",
      request: `GET ${jwksPath} HTTP/2.0\r\nHost: a\r\n\r\n`,
      status: 505,
    },
    {
      what: "HTTP/1.2 on the request line",
      request: `GET ${jwksPath} HTTP/1.2\r\nHost: a\r\n\r\n`,
      status: 505,
    },
    {
      what: "too many header lines",
      request: `GET ${jwksPath} HTTP/1.1\r\nHost: a\r\n${"X-Many: m\r\n".repeat(2000)}\r\n`,
      status: 431,
    },
    ...[
      "/..%2f",
      "/..%2f..%2fetc%2fpasswd",
      "/prod/..%2f..%2fetc/passwd",
      "/prod/..%2fprod/keys.json",
      "/prod/../prod/keys.json",
      "/prod/%2e%2e/prod/keys.json",
      "/prod/.well-known/..%2fkeys.json",
      "/prod/keys.json%2f",
      "/prod\\keys.json",
      "/prod/.irsa-anywhere-state.json",
    ].map((path) => ({
      what: `a path that is not a document (${path})`,
      request: `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
      status: 404,
    })),
  ])("answers $what with $status, closes, and keeps serving", async ({ request, status }) => {
    const key = newKey();
    const { server } = await start({ source: keysSource(() => key.keys), limits });
    const response = await exchange(server, request);
    expect(statusLine(response)).toBe(`HTTP/1.1 ${status} ${STATUS_CODES[status]}`);
    expect(response.toLowerCase()).toContain("connection: close");
    expect((await fetchFrom(server, jwksPath)).status).toBe(200);
  });

  it.each(["DELETE", "OPTIONS"])("answers %s with 405 and the methods it takes", async (method) => {
    const key = newKey();
    const { server } = await start({ source: keysSource(() => key.keys), limits });
    const response = await exchange(
      server,
      `${method} ${jwksPath} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    expect(statusLine(response)).toBe("HTTP/1.1 405 Method Not Allowed");
    expect(response.toLowerCase()).toContain("allow: get, head");
  });

  it("answers 408 to a client that sends its headers too slowly, and closes", async () => {
    const key = newKey();
    const { server, log } = await start({ source: keysSource(() => key.keys), limits });
    const raw = await openRaw(server);
    raw.socket.write(`GET ${jwksPath} HTTP/1.1\r\nHost: a\r\n`);
    const started = Date.now();
    await Promise.race([raw.closed, sleep(5_000)]);
    expect(statusLine(raw.received())).toBe("HTTP/1.1 408 Request Timeout");
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(log).toContainEqual(expect.objectContaining({ event: "client-error", status: 408 }));
  });

  it("closes a connection that sends nothing, and one left idle after a request", async () => {
    const key = newKey();
    const { server } = await start({
      source: keysSource(() => key.keys),
      limits: { ...limits, keepAliveTimeoutMs: 300 },
    });
    const silent = await openRaw(server);
    const idle = await openRaw(server);
    idle.socket.write(`GET ${jwksPath} HTTP/1.1\r\nHost: a\r\n\r\n`);
    const started = Date.now();
    await Promise.race([Promise.all([silent.closed, idle.closed]), sleep(5_000)]);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(statusLine(silent.received())).toBe("HTTP/1.1 408 Request Timeout");
    expect(statusLine(idle.received())).toBe("HTTP/1.1 200 OK");
    expect(idle.socket.destroyed).toBe(true);
  });

  it("closes a connection that never finishes the TLS handshake", async () => {
    const key = newKey();
    const { server } = await start({ source: keysSource(() => key.keys), limits, tls: tlsFiles() });
    const raw = await openRaw(server);
    const started = Date.now();
    await Promise.race([raw.closed, sleep(5_000)]);
    expect(raw.socket.destroyed).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("IssuerServer.close", () => {
  it("lets a request in flight finish with Connection: close, and refuses new connections", async () => {
    const key = newKey();
    const { server, log } = await start({ source: keysSource(() => key.keys), tls: tlsFiles() });
    const agent = new HttpsAgent({ keepAlive: true, ca: ca.certPem });
    agents.push(agent);
    await fetchFrom(server, jwksPath, { agent }); // an idle keep-alive connection, closed at once
    const inFlight = await openRaw(server, true);
    inFlight.socket.write(`GET ${jwksPath} HTTP/1.1\r\nHost: localhost\r\n`);
    await sleep(100);

    let closed = false;
    const closing = server.close({ timeoutMs: 10_000 }).then(() => {
      closed = true;
    });
    await until(() => log.some((entry) => entry.event === "shutdown-started"), "shutdown starts");
    await expect(fetchFrom(server, jwksPath)).rejects.toThrow(/ECONNREFUSED/);
    expect(closed).toBe(false);

    inFlight.socket.write("\r\n");
    await inFlight.closed;
    await closing;
    const response = inFlight.received();
    expect(statusLine(response)).toBe("HTTP/1.1 200 OK");
    expect(response.toLowerCase()).toContain("connection: close");
    expect(response).toContain('"keys"');
    expect(log.at(-1)).toEqual({ level: "info", event: "shutdown-complete", forcedConnections: 0 });
  });

  it("leaves no keep-alive request unanswered: many clients, requests back to back, close() among them", async () => {
    const key = newKey();
    const { server, log } = await start({ source: keysSource(() => key.keys) });
    const clients = 8;
    const closeAfterResponses = 2_000;
    /** Bounds each client's loop whatever the server does. */
    const maxRequestsPerClient = 20_000;
    let responses = 0;
    let closing: Promise<void> | undefined;
    const request = `GET ${jwksPath} HTTP/1.1\r\nHost: a\r\n\r\n`;
    // One connection each, one request at a time, the next one sent as soon as the answer is in,
    // as a busy keep-alive client does; it stops only when told `Connection: close` or cut off.
    const client = () =>
      new Promise<{ sent: number; answered: number; toldToClose: boolean }>((resolve) => {
        const socket = connectTcp({ host: "127.0.0.1", port: server.address.port });
        sockets.push(socket);
        let buffer = "";
        let sent = 0;
        let answered = 0;
        let toldToClose = false;
        const send = () => {
          if (toldToClose || sent === maxRequestsPerClient) {
            socket.end();
            return;
          }
          sent++;
          socket.write(request);
        };
        socket.setEncoding("latin1");
        socket.on("connect", send);
        socket.on("error", () => {});
        socket.on("data", (chunk: string) => {
          buffer += chunk;
          const headEnd = buffer.indexOf("\r\n\r\n");
          if (headEnd < 0) return;
          const head = buffer.slice(0, headEnd).toLowerCase();
          const length = Number(/content-length: (\d+)/.exec(head)?.[1] ?? 0);
          if (buffer.length < headEnd + 4 + length) return;
          buffer = buffer.slice(headEnd + 4 + length);
          answered++;
          responses++;
          if (head.includes("connection: close")) toldToClose = true;
          if (responses === closeAfterResponses) closing = server.close({ timeoutMs: 10_000 });
          send();
        });
        socket.on("close", () => resolve({ sent, answered, toldToClose }));
      });

    const results = await Promise.all(Array.from({ length: clients }, client));
    await closing;

    expect(closing).toBeDefined();
    const unanswered = results.reduce((sum, result) => sum + result.sent - result.answered, 0);
    expect(unanswered).toBe(0);
    // Every client was still busy when the shutdown began, and was told to close, not cut off.
    expect(results.map((result) => result.toldToClose)).toEqual(Array(clients).fill(true));
    expect(log.at(-1)).toEqual({ level: "info", event: "shutdown-complete", forcedConnections: 0 });
  });

  it("closes an idle keep-alive connection once it has been silent, without waiting for the timeout", async () => {
    const key = newKey();
    const { server, log } = await start({ source: keysSource(() => key.keys) });
    const idle = await openRaw(server);
    idle.socket.write(`GET ${jwksPath} HTTP/1.1\r\nHost: a\r\n\r\n`);
    await until(() => idle.received().includes('"keys"'), "the answer");
    const started = Date.now();
    await server.close({ timeoutMs: 10_000 });
    await idle.closed;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(log.at(-1)).toEqual({ level: "info", event: "shutdown-complete", forcedConnections: 0 });
  });

  it("cuts connections still open when the timeout passes", async () => {
    const key = newKey();
    const { server, log } = await start({ source: keysSource(() => key.keys) });
    const stuck = await openRaw(server);
    stuck.socket.write(`GET ${jwksPath} HTTP/1.1\r\n`);
    await sleep(50);
    const started = Date.now();
    await server.close({ timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2_000);
    await stuck.closed;
    expect(log.at(-1)).toEqual({ level: "info", event: "shutdown-complete", forcedConnections: 1 });
  });

  it("answers /readyz with 503 once shutdown has begun, on a connection already open", async () => {
    const key = newKey();
    const { server } = await start({ source: keysSource(() => key.keys) });
    const open = await openRaw(server);
    open.socket.write("GET /readyz HTTP/1.1\r\nHost: a\r\n");
    await sleep(50);
    const closing = server.close();
    open.socket.write("\r\n");
    await open.closed;
    await closing;
    expect(statusLine(open.received())).toBe("HTTP/1.1 503 Service Unavailable");
  });
});

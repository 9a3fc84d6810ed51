// The built CLI reading a cluster's signing key through a kubeconfig, against a local HTTPS server
// that answers like kube-apiserver.
import { execFile, spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningHttpsServer, startHttpsServer } from "./support/https-server.js";
import { freeLoopbackPort } from "./support/ports.js";
import { createCertificateAuthority, issueServerCertificate } from "./support/tls.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "packages/cli/bin/irsa-anywhere.cjs");
const bundle = join(root, "packages/cli/dist/bundle/irsa-anywhere.cjs");
const secretPath = "/api/v1/namespaces/eksa-system/secrets/prod-sa";
const token = `sha256~${randomBytes(24).toString("base64url")}`;

let dir: string;
let home: string;
let kubeconfig: string;
let server: RunningHttpsServer;
let kid: string;
const seenAuthorization: Array<string | undefined> = [];

/** Answers like kube-apiserver for one secret, eksa-system/prod-sa, and only to the right token. */
function fakeKubernetesApi(secret: object) {
  return (request: IncomingMessage, response: ServerResponse) => {
    seenAuthorization.push(request.headers.authorization);
    const reply = (code: number, body: object) => {
      response.writeHead(code, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) =>
      reply(code, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message,
        reason,
        code,
      });
    const path = request.url?.split("?")[0] ?? "";
    if (request.headers.authorization !== `Bearer ${token}`) status(401, "Unauthorized", "Unauthorized");
    else if (path === secretPath) reply(200, secret);
    else status(404, "NotFound", `secrets "${path.split("/").at(-1)}" not found`);
  };
}

beforeAll(async () => {
  if (!existsSync(bundle)) {
    await promisify(execFile)("pnpm", ["run", "build"], { cwd: root });
  }
  dir = await mkdtemp(join(tmpdir(), "irsa-cli-cluster-test-"));
  // An empty home, so that no ~/.kube/config of the machine running the tests is ever read.
  home = join(dir, "home");
  await mkdir(home);

  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  kid = createHash("sha256")
    .update(pair.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url");
  const pem = (text: string | Buffer) => Buffer.from(text).toString("base64");
  const secret = {
    kind: "Secret",
    apiVersion: "v1",
    metadata: { name: "prod-sa", namespace: "eksa-system", resourceVersion: "48213" },
    type: "cluster.x-k8s.io/secret",
    data: {
      "tls.crt": pem(pair.publicKey.export({ type: "spki", format: "pem" })),
      "tls.key": pem(pair.privateKey.export({ type: "pkcs1", format: "pem" })),
    },
  };

  const ca = createCertificateAuthority();
  const tls = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
  server = await startHttpsServer(fakeKubernetesApi(secret), { cert: tls.certPem, key: tls.keyPem });
  const down = `https://127.0.0.1:${await freeLoopbackPort()}`;

  const caData = Buffer.from(ca.certPem).toString("base64");
  const context = (name: string, url: string) => ({
    cluster: `- name: ${name}\n  cluster:\n    server: ${url}\n    certificate-authority-data: ${caData}`,
    context: `- name: ${name}\n  context:\n    cluster: ${name}\n    user: reader`,
  });
  const contexts = [context("prod", server.url), context("down", down)];
  kubeconfig = join(dir, "kubeconfig.yaml");
  await writeFile(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      ...contexts.map((c) => c.cluster),
      "users:",
      `- name: reader\n  user:\n    token: ${token}`,
      "contexts:",
      ...contexts.map((c) => c.context),
      "current-context: prod",
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seenAuthorization.length = 0;
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI without blocking this process, which serves the fake API. The environment is built
 * from scratch so that the caller's KUBECONFIG and home never leak in.
 */
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: home, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 20_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** One line on stderr, nothing on stdout, and no credential or key material in the line. */
function expectOneLineFailure(run: Run, code: number): void {
  expect(run.code).toBe(code);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(/^irsa-anywhere: [^\n]+\n$/);
  expect(run.stderr).not.toContain(token);
  expect(run.stderr).not.toContain("-----BEGIN");
}

describe("irsa-anywhere keys --cluster", () => {
  it("prints the JWKS of the <cluster>-sa secret, read with the kubeconfig's token", async () => {
    const run = await cli(["keys", "--cluster", "prod", "--kubeconfig", kubeconfig]);

    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const jwks = JSON.parse(run.stdout) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys[0]).toMatchObject({ kid, kty: "RSA", alg: "RS256", use: "sig" });
    expect(jwks.keys.map((key) => key.kid)).toEqual([kid, ""]);
    for (const key of jwks.keys) expect(key).not.toHaveProperty("d");
    expect(seenAuthorization).toEqual([`Bearer ${token}`]);
  });

  it("reads the kubeconfig named by KUBECONFIG when --kubeconfig is absent", async () => {
    const run = await cli(["keys", "--cluster", "prod"], { KUBECONFIG: kubeconfig });

    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { keys: Array<{ kid: string }> }).keys[0]?.kid).toBe(kid);
  });

  it("exits 2 with one line when the secret does not exist", async () => {
    const run = await cli(["keys", "--cluster", "staging", "--kubeconfig", kubeconfig]);

    expectOneLineFailure(run, 2);
    expect(seenAuthorization).toEqual([`Bearer ${token}`]);
  });

  it("exits 1 with one line when the API server refuses the connection", async () => {
    const run = await cli(["keys", "--cluster", "prod", "--kubeconfig", kubeconfig, "--context", "down"]);

    expectOneLineFailure(run, 1);
  });

  it.skipIf(existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token"))(
    "exits 2 with one line when there is no kubeconfig at all",
    async () => {
      const run = await cli(["keys", "--cluster", "prod"]);

      expectOneLineFailure(run, 2);
    },
  );
});

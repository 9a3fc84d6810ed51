// Every wait ends: a server that accepts connections and never answers (S3, IAM, STS, the
// Kubernetes API) costs the CLI at most its --timeout, and the one line it prints names the
// endpoint and the step that did not answer.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { generateTestKey, pem } from "./support/keys.js";
import { awsTestEnv, type MotoServer, s3TestClientConfig, startMoto } from "./support/moto.js";

/** A TCP server on a free loopback port that accepts every connection and never writes a byte. */
async function startSilentServer(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A loopback port whose accept queue is full and never drained, so that a new connection is never
 * accepted: the kernel drops its SYNs and connect() waits. Node always accepts, so Python holds it.
 */
async function startNeverAcceptingPort(): Promise<{ port: number; stop(): void }> {
  const script = [
    "import socket, time",
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    "port = s.getsockname()[1]",
    "held = []",
    "for _ in range(8):",
    "    c = socket.socket(); c.setblocking(False)",
    "    try: c.connect(('127.0.0.1', port))",
    "    except BlockingIOError: pass",
    "    held.append(c)",
    "print(port, flush=True)",
    "time.sleep(600)",
  ].join("\n");
  const child = spawn("python3", ["-c", script], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (chunk) => resolve(Number(String(chunk).trim())));
    child.once("error", reject);
  });
  return { port, stop: () => child.kill() };
}

let silent: Awaited<ReturnType<typeof startSilentServer>>;
let dir: string;
const credentials = {
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  AWS_EC2_METADATA_DISABLED: "true",
};

beforeAll(async () => {
  silent = await startSilentServer();
  dir = await mkdtemp(join(tmpdir(), "irsa-timeouts-"));
  await writeFile(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));
});
afterAll(async () => {
  await silent?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string>) =>
  runCli(args, { env: { HOME: dir, ...env }, isolated: true, cwd: dir });

/** The run ended by itself, within its --timeout and a margin, with exit 1 and one line. */
async function expectNoAnswer(args: string[], env: Record<string, string>, message: RegExp) {
  const started = Date.now();
  const result = await cli([...args, "--timeout", "2s"], env);
  expect(Date.now() - started).toBeLessThan(8_000);
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.code).toBe(1);
  return result;
}

describe("a server that accepts and never answers", () => {
  it("publish to S3 ends within --timeout, naming S3's endpoint and the request", async () => {
    await expectNoAnswer(
      ["publish", "--key", "sa.pub", "--bucket", "oidc-bucket", "--region", "us-east-1"],
      { ...credentials, AWS_ENDPOINT_URL: silent.url },
      new RegExp(`^irsa-anywhere: S3 at ${silent.url} did not answer (GetObject|PutObject) within`),
    );
  }, 15_000);

  it("doctor ends within --timeout, naming IAM's endpoint", async () => {
    await expectNoAnswer(
      ["doctor", "--issuer", "https://127.0.0.1:9/prod"],
      { ...credentials, AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: silent.url },
      new RegExp(`^irsa-anywhere: (IAM|STS) at ${silent.url} did not answer \\w+ within`),
    );
  }, 15_000);

  it("trust-policy ends within --timeout, naming STS's endpoint and GetCallerIdentity", async () => {
    await expectNoAnswer(
      ["trust-policy", "--issuer", "https://oidc.example.com/prod", "--service-account", "a/b"],
      { ...credentials, AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: silent.url },
      new RegExp(`^irsa-anywhere: STS at ${silent.url} did not answer GetCallerIdentity within`),
    );
  }, 15_000);

  it("role create ends within --timeout, naming IAM's endpoint and the lookup of the provider", async () => {
    await expectNoAnswer(
      ["role", "create", "--issuer", "https://oidc.example.com/prod", "--service-account", "a/b"].concat([
        "--role-name",
        "b",
        "--role-only",
      ]),
      { ...credentials, AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: silent.url },
      new RegExp(`^irsa-anywhere: IAM at ${silent.url} did not answer ListOpenIDConnectProviders within`),
    );
  }, 15_000);

  it("a Kubernetes read (--cluster) ends within --timeout, naming the API server", async () => {
    const kubeconfig = join(dir, "silent.kubeconfig");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        // https: the client refuses plain HTTP; a TLS handshake that is never answered hangs the same.
        `- cluster: {server: "https://127.0.0.1:${silent.port}", insecure-skip-tls-verify: true}`,
        "  name: silent",
        "contexts:",
        "- context: {cluster: silent, user: u}",
        "  name: silent",
        "current-context: silent",
        "users:",
        "- name: u",
        "  user: {token: t}",
        "",
      ].join("\n"),
    );
    await expectNoAnswer(
      ["keys", "--cluster", "prod", "--kubeconfig", kubeconfig],
      {},
      new RegExp(
        `^irsa-anywhere: (cannot read secret eksa-system/prod-sa from https://127.0.0.1:${silent.port}: no answer within 2 s|the Kubernetes API at https://127.0.0.1:${silent.port} did not answer get secret eksa-system/prod-sa within --timeout 2s)`,
      ),
    );
  }, 15_000);
});

describe("a server that never accepts the connection", () => {
  it("publish to S3 ends within --timeout, naming S3's endpoint and the request", async () => {
    const closed = await startNeverAcceptingPort();
    try {
      const url = `http://127.0.0.1:${closed.port}`;
      await expectNoAnswer(
        ["publish", "--key", "sa.pub", "--bucket", "oidc-bucket", "--region", "us-east-1"],
        { ...credentials, AWS_ENDPOINT_URL: url },
        new RegExp(
          `^irsa-anywhere: S3 at ${url} did not (answer|accept a connection for) (GetObject|PutObject) within`,
        ),
      );
    } finally {
      closed.stop();
    }
  }, 15_000);
});

describe("publish's IAM provider step against an IAM that never answers", () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMoto();
    await new S3Client(s3TestClientConfig(moto.endpoint)).send(
      new CreateBucketCommand({ Bucket: "oidc-bucket" }),
    );
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it("ends within --timeout, naming IAM's endpoint and the request", async () => {
    await expectNoAnswer(
      // Public, so that the anonymous read-back passes and the run reaches the IAM step.
      ["publish", "--key", "sa.pub", "--bucket", "oidc-bucket", "--prefix", "prod", "--public-read-policy"],
      { ...awsTestEnv(moto.endpoint), AWS_ENDPOINT_URL_IAM: silent.url },
      new RegExp(`^irsa-anywhere: IAM at ${silent.url} did not answer \\w*OpenIDConnectProvider\\w* within`),
    );
  }, 15_000);
});

describe("--timeout", () => {
  it.each([
    ["0s", /--timeout 0s is too short/],
    ["soon", /"soon" is not a duration/],
  ])("refuses %s: one line, exit 2", async (value, message) => {
    const result = await cli(["keys", "--key", "sa.pub", "--empty-kid", "--timeout", value], {});
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it("is in every command's help, with its default", async () => {
    for (const command of ["publish", "doctor", "keys"]) {
      const result = await cli([command, "--help"], {});
      expect(result.stdout).toMatch(/--timeout .*\[default: "5m"\]/);
    }
  });
});

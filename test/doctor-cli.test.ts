// The built CLI's doctor as a user runs it: a local HTTPS issuer (trusted with --ca-file), AWS
// in a local moto server behind a recording proxy (which also shows the token the CLI sent, so
// the test can prove it is printed nowhere), exit codes 0, 1 and 2, and --json.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import type { Diagnosis } from "@irsa-anywhere/doctor";
import { publicKeysFromPem } from "@irsa-anywhere/keys";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { type HttpsIssuer, startHttpsIssuer } from "./support/https-issuer.js";
import { generateTestKey, pem } from "./support/keys.js";
import { awsTestClientConfig, awsTestEnv, type MotoServer, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";
import { createCertificateAuthority } from "./support/tls.js";

const account = "123456789012";
const roleArn = `arn:aws:iam::${account}:role/payments-api`;
const pair = generateTestKey({ type: "rsa", bits: 2048 });
const keys = publicKeysFromPem(pem(pair.publicKey, "spki"), "sa.pub");

let moto: MotoServer;
let proxy: RecordingProxy;
let iam: IAMClient;
let issuer: HttpsIssuer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  iam = new IAMClient(awsTestClientConfig(moto.endpoint));
  issuer = await startHttpsIssuer({ ca: createCertificateAuthority() });
  dir = await mkdtemp(join(tmpdir(), "irsa-doctor-cli-"));
  await writeFile(join(dir, "ca.pem"), issuer.caPem);
  await writeFile(join(dir, "sa.key"), pem(pair.privateKey, "pkcs8"), { mode: 0o600 });
  await writeFile(join(dir, "sa.pub"), pem(pair.publicKey, "spki"));
  // An empty HOME: no ~/.aws or ~/.kube of the machine running the tests can leak in.
  env = { ...awsTestEnv(proxy.url), HOME: dir };
});
afterAll(async () => {
  iam?.destroy();
  await issuer?.close();
  await proxy?.close();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await moto.reset();
  proxy.clear();
  issuer.publish(keys);
});

async function registerRole(options: { provider?: boolean } = {}): Promise<void> {
  const hostPath = issuerHostPath(issuer.issuer);
  if (options.provider ?? true) {
    await iam.send(
      new CreateOpenIDConnectProviderCommand({ Url: issuer.issuer, ClientIDList: ["sts.amazonaws.com"] }),
    );
  }
  await iam.send(
    new CreateRoleCommand({
      RoleName: "payments-api",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${hostPath}` },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                [`${hostPath}:sub`]: "system:serviceaccount:payments:api",
                [`${hostPath}:aud`]: "sts.amazonaws.com",
              },
            },
          },
        ],
      }),
    }),
  );
}

const doctor = (...extra: string[]) => [
  "doctor",
  "--issuer",
  issuer.issuer,
  "--ca-file",
  "ca.pem",
  "--service-account",
  "payments/api",
  "--role-arn",
  roleArn,
  ...extra,
];
const cli = (args: string[], environment: Record<string, string> = env) =>
  runCli(args, { env: environment, isolated: true, cwd: dir });

/** The token the CLI sent to STS, read from the request the proxy forwarded. */
function sentToken(): string | undefined {
  const call = proxy.requests.find((request) => request.body.includes("Action=AssumeRoleWithWebIdentity"));
  return call ? (new URLSearchParams(call.body).get("WebIdentityToken") ?? undefined) : undefined;
}

describe("irsa-anywhere doctor", () => {
  it("proves the chain with a smoke test: exit 0, one line per check, the token nowhere", async () => {
    await registerRole();
    const result = await cli(doctor("--key", "sa.key", "--smoke-test"));

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(`irsa-anywhere doctor: ${issuer.issuer}`);
    expect(lines).toContain(
      `PASS  Issuer URL is one STS accepts: IAM names its provider ${issuerHostPath(issuer.issuer)}`,
    );
    expect(result.stdout).toContain(
      `PASS  STS AssumeRoleWithWebIdentity answers with credentials: assumed arn:aws:sts::${account}:assumed-role/payments-api/irsa-anywhere-doctor`,
    );
    expect(lines.at(-2)).toMatch(/^\d+ passed, 0 warnings, 0 failed, 6 skipped$/);
    expect(result.stdout).not.toContain("\u001b[");

    const token = sentToken();
    expect(token).toMatch(/^eyJ/);
    expect(result.stdout).not.toContain(token);
    expect(result.stdout).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it("prints every check as JSON with --json", async () => {
    await registerRole();
    const result = await cli(doctor("--key", "sa.pub", "--json"));

    expect(result.code).toBe(0);
    const diagnosis = JSON.parse(result.stdout) as Diagnosis;
    expect(diagnosis.ok).toBe(true);
    expect(diagnosis.issuer).toBe(issuer.issuer);
    expect(diagnosis.checks).toHaveLength(22);
    expect(diagnosis.checks.find((check) => check.id === "role-trust-policy")).toMatchObject({
      status: "pass",
      title: "Role's trust policy lets the service account in",
    });
  });

  it("exits 1 when a check fails, with STS's error and the fix below it", async () => {
    await registerRole({ provider: false });
    const result = await cli(doctor("--key", "sa.pub"));

    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    const lines = result.stdout.split("\n");
    const at = lines.findIndex((line) => line.startsWith("FAIL  IAM OIDC provider exists for this issuer: "));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe(
      `      STS says: InvalidIdentityToken: No OpenIDConnect provider found in your account for ${issuer.issuer}`,
    );
    expect(lines[at + 2]).toMatch(
      /^ {6}fix: irsa-anywhere publish registers it, or: aws iam create-open-id-connect-provider/,
    );
  });

  it("checks the documents without AWS or a cluster with --no-aws", async () => {
    const result = await cli(
      ["doctor", "--issuer", issuer.issuer, "--ca-file", "ca.pem", "--key", "sa.pub", "--no-aws"],
      { HOME: dir },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("SKIP  IAM OIDC provider exists for this issuer: AWS checks are off");
  });

  it("warns, and still exits 0, when AWS cannot be asked", async () => {
    const result = await cli(
      ["doctor", "--issuer", issuer.issuer, "--ca-file", "ca.pem", "--key", "sa.pub"],
      { HOME: dir, AWS_EC2_METADATA_DISABLED: "true", AWS_REGION: "us-east-1" },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /WARN {2}IAM OIDC provider exists for this issuer: not checked: .*no AWS credentials found/,
    );
  });

  const mistakes: Array<[string, string[], RegExp]> = [
    ["no issuer", ["doctor", "--key", "sa.pub"], /Missing required argument: issuer/],
    [
      "a service account without namespace",
      ["doctor", "--issuer", "https://oidc.example.com", "--service-account", "api"],
      /not NAMESPACE\/NAME/,
    ],
    [
      "a role name instead of an ARN",
      ["doctor", "--issuer", "https://oidc.example.com", "--role-arn", "payments-api"],
      /not an IAM role ARN/,
    ],
    [
      "a smoke test with only a public key",
      [
        "doctor",
        "--issuer",
        "https://oidc.example.com",
        "--key",
        "sa.pub",
        "--service-account",
        "a/b",
        "--role-arn",
        roleArn,
        "--smoke-test",
      ],
      /--smoke-test signs a token with the cluster's private signing key/,
    ],
    [
      "a CA file that is not there",
      ["doctor", "--issuer", "https://oidc.example.com", "--ca-file", "absent.pem"],
      /cannot read --ca-file absent\.pem: ENOENT/,
    ],
    [
      "a CA file that holds a key, not a certificate",
      ["doctor", "--issuer", "https://oidc.example.com", "--ca-file", "sa.pub"],
      /--ca-file sa\.pub holds no PEM certificate/,
    ],
  ];
  it.each(mistakes)("exits 2 on %s, with one line on stderr", async (_name, args, reason) => {
    const result = await cli(args, { HOME: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(reason);
  });

  it("reads the smoke test's private key from standard input, as every key source reads -", async () => {
    const args = ["doctor", "--issuer", "https://oidc.example.com", "--key", "-", "--smoke-test"];
    // A public key on stdin is read, and found not to be the signing key.
    const publicOnly = await runCli(args, {
      env,
      isolated: true,
      cwd: dir,
      input: pem(pair.publicKey, "spki"),
    });
    expect(publicOnly.code).toBe(2);
    expect(publicOnly.stderr).toMatch(/--smoke-test signs a token with the cluster's private signing key/);
    // The private key on stdin is the signing key: the smoke test goes on, to ask for the account.
    const withKey = await runCli(args, {
      env,
      isolated: true,
      cwd: dir,
      input: pem(pair.privateKey, "pkcs8"),
    });
    expect(withKey.stderr).not.toMatch(/private signing key/);
    expect(withKey.stderr).toMatch(/--service-account/);
  });

  it("shows its options and exit codes in --help", async () => {
    const result = await cli(["doctor", "--help"]);
    expect(result.code).toBe(0);
    for (const option of [
      "--issuer",
      "--service-account",
      "--role-arn",
      "--smoke-test",
      "--ca-file",
      "--no-aws",
      "--json",
    ]) {
      expect(result.stdout).toContain(option.replace("--no-aws", "--aws"));
    }
    expect(result.stdout).toMatch(/0 nothing failed, 1 a check failed/);
  });
});

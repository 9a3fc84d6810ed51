// How the CLI picks its AWS settings: a profile of the shared files (its credentials and its
// region, for every command that talks to AWS), and --region / --endpoint-url checked up front.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { generateTestKey, pem } from "./support/keys.js";
import { type MotoServer, s3TestClientConfig, startMoto } from "./support/moto.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-aws-settings-"));
  await writeFile(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { env: { HOME: dir, AWS_EC2_METADATA_DISABLED: "true", ...env }, isolated: true, cwd: dir });

describe("settings refused before anything is read or sent: one line, exit 2", () => {
  it.each([
    [
      "publish --region evil.com",
      ["publish", "--key", "sa.pub", "--bucket", "b-1", "--region", "evil.com"],
      /"evil\.com" is not an AWS region/,
    ],
    [
      "rotate --region with a slash",
      ["rotate", "status", "--key", "sa.pub", "--bucket", "b-1", "--region", "us-east-1/x"],
      /is not an AWS region/,
    ],
    [
      "doctor --region evil.com",
      ["doctor", "--issuer", "https://oidc.example.com/p", "--region", "evil.com"],
      /"evil\.com" is not an AWS region/,
    ],
    [
      "trust-policy --region evil.com",
      [
        "trust-policy",
        "--issuer",
        "https://oidc.example.com/p",
        "--service-account",
        "a/b",
        "--account-id",
        "123456789012",
        "--region",
        "evil.com",
      ],
      /"evil\.com" is not an AWS region/,
    ],
    [
      "role create --region evil.com",
      ["role", "create", "--issuer", "https://oidc.example.com/p", "--service-account", "a/b"].concat([
        "--role-name",
        "b",
        "--role-only",
        "--region",
        "evil.com",
      ]),
      /"evil\.com" is not an AWS region/,
    ],
    [
      'publish --endpoint-url ""',
      ["publish", "--key", "sa.pub", "--bucket", "b-1", "--endpoint-url", ""],
      /--endpoint-url is empty/,
    ],
    [
      'publish --profile ""',
      ["publish", "--key", "sa.pub", "--bucket", "b-1", "--profile", ""],
      /--profile is empty/,
    ],
  ])("%s", async (_name, args, message) => {
    const result = await cli(args);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result).toMatchObject({ code: 2, stdout: "" });
  });
});

describe("--profile: the profile's credentials and region, for every command that talks to AWS", () => {
  let moto: MotoServer;
  let env: Record<string, string>;
  const bucket = "china-oidc-bucket";

  beforeAll(async () => {
    moto = await startMoto();
    await writeFile(join(dir, "config"), "[profile china]\nregion = cn-north-1\n");
    await writeFile(
      join(dir, "credentials"),
      "[china]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    // No region and no credentials in the environment: only the profile names them.
    env = {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_CONFIG_FILE: join(dir, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
    };
    await new S3Client({ ...s3TestClientConfig(moto.endpoint), region: "cn-north-1" }).send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: "cn-north-1" },
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it("publish uses the profile's region and partition (aws-cn)", async () => {
    const result = await cli(
      [
        "publish",
        "--key",
        "sa.pub",
        "--bucket",
        bucket,
        "--prefix",
        "prod",
        "--profile",
        "china",
        "--public-read-policy",
        "--json",
      ],
      env,
    );
    // The documents must be public: publish reads them back anonymously, as STS will.
    expect(result.stderr).not.toMatch(/irsa-anywhere:/);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.target.region).toBe("cn-north-1");
    expect(output.issuer).toBe(`https://${bucket}.s3.cn-north-1.amazonaws.com.cn/prod`);
    expect(output.oidcProvider.arn).toMatch(/^arn:aws-cn:iam::\d{12}:oidc-provider\//);
  });

  it("doctor uses the same region, so it looks for the provider in aws-cn", async () => {
    const issuer = `https://${bucket}.s3.cn-north-1.amazonaws.com.cn/prod`;
    const result = await cli(
      ["doctor", "--issuer", issuer, "--profile", "china", "--json", "--timeout", "20s"],
      env,
    );
    expect(result.stdout).toContain("arn:aws-cn:iam::");
    expect(result.stdout).not.toContain("arn:aws:iam::");
  });

  it("doctor takes AWS_PROFILE's region too, as the SDK does", async () => {
    const issuer = `https://${bucket}.s3.cn-north-1.amazonaws.com.cn/prod`;
    const result = await cli(["doctor", "--issuer", issuer, "--json", "--timeout", "20s"], {
      ...env,
      AWS_PROFILE: "china",
    });
    expect(result.stdout).toContain("arn:aws-cn:iam::");
    expect(result.stdout).not.toContain("arn:aws:iam::");
  });

  it("trust-policy takes the partition from the profile's region", async () => {
    const result = await cli(
      [
        "trust-policy",
        "--issuer",
        "https://oidc.example.com/prod",
        "--service-account",
        "a/b",
        "--account-id",
        "123456789012",
        "--profile",
        "china",
      ],
      env,
    );
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout).Statement[0].Principal.Federated).toMatch(
      /^arn:aws-cn:iam::123456789012:/,
    );
  });
});

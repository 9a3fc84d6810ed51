// The built CLI publishing to S3 as a user runs it: AWS settings from the environment (pointed at
// a local moto server), data on stdout, one line on stderr for every mistake.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { generateTestKey, pem } from "./support/keys.js";
import { awsTestEnv, type MotoServer, s3TestClientConfig, startMoto } from "./support/moto.js";

const bucket = "cli-oidc-bucket";
const region = "us-east-1";
let moto: MotoServer;
let s3: S3Client;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client(s3TestClientConfig(moto.endpoint));
  dir = await mkdtemp(join(tmpdir(), "irsa-cli-s3-"));
  await writeFile(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));
  // An empty HOME: no ~/.aws or ~/.kube of the machine running the tests can leak in.
  env = { ...awsTestEnv(moto.endpoint), HOME: dir };
});
afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await moto.reset();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

// The key file is named relative to the temp dir, the CLI's working directory in these tests.
const publishTo = (target: string, ...extra: string[]) => [
  "publish",
  "--key",
  "sa.pub",
  "--bucket",
  target,
  "--prefix",
  "prod",
  ...extra,
];
const publishArgs = (...extra: string[]) => publishTo(bucket, ...extra);
const cli = (args: string[], environment: Record<string, string> = env) =>
  runCli(args, { env: environment, isolated: true, cwd: dir });

describe("irsa-anywhere publish --bucket", () => {
  it("publishes, prints the result as JSON, and says nothing on stderr", async () => {
    const result = await cli(publishArgs("--public-read-policy", "--json"));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.issuer).toBe(`https://${bucket}.s3.${region}.amazonaws.com/prod`);
    expect(output.oidcProvider.arn).toMatch(
      /:oidc-provider\/cli-oidc-bucket\.s3\.us-east-1\.amazonaws\.com\/prod$/,
    );
    expect(output.documents.map((d: { location: string }) => d.location)).toEqual([
      `${moto.endpoint}/${bucket}/prod/keys.json`,
      `${moto.endpoint}/${bucket}/prod/.well-known/openid-configuration`,
    ]);
    const discovery = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "prod/.well-known/openid-configuration" }),
    );
    expect(JSON.parse((await discovery.Body?.transformToString()) ?? "").issuer).toBe(output.issuer);
  });

  it("changes nothing the second time, and says so with the value for the cluster spec", async () => {
    await cli(publishArgs("--public-read-policy"));
    const again = await cli(publishArgs("--public-read-policy"));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/unchanged\s+.*keys\.json/);
    expect(again.stdout).toMatch(/unchanged\s+IAM OIDC provider/);
    expect(again.stdout).toContain(`serviceAccountIssuer: https://${bucket}.s3.${region}.amazonaws.com/prod`);
  });

  it("fails (exit 1), with the fix, when STS could not read the documents", async () => {
    const result = await cli(publishArgs());
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/HTTP 403 without credentials.*--public-read-policy/);
  });

  it("plans on a dry run and writes nothing", async () => {
    const result = await cli(publishArgs("--dry-run"));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would create\s+.*keys\.json/);
    expect(result.stdout).toMatch(/would create\s+IAM OIDC provider/);
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listing.KeyCount ?? 0).toBe(0);
  });
});

describe("mistakes: one line on stderr, the documented exit code", () => {
  it.each([
    ["a bucket that does not exist", publishTo("no-such-bucket-here"), 2, /does not exist/],
    [
      "an http issuer",
      publishArgs("--issuer", `http://${bucket}.s3.${region}.amazonaws.com/prod`),
      2,
      /https/,
    ],
    [
      "an issuer on another host",
      publishArgs("--issuer", "https://oidc.example.com/prod"),
      2,
      /--external-issuer/,
    ],
    ["an empty bucket name", publishTo(""), 2, /"" is not an S3 bucket name/],
    ["a bucket given as a URL", publishTo(`s3://${bucket}/prod`), 2, /give the bucket's name alone/],
    ["an empty audience", publishArgs("--audience", ""), 2, /an audience is empty/],
    [
      "an endpoint where nothing answers",
      publishArgs("--endpoint-url", "http://127.0.0.1:1"),
      1,
      /cannot reach S3 for s3:GetObject: ECONNREFUSED; check the network/,
    ],
  ])("%s", async (_name, args, code, reason) => {
    const result = await cli(args);
    expect(result.code).toBe(code);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(reason);
  });

  it("no credentials: exit 1 and how to provide them", async () => {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...noCredentials } = env;
    const result = await cli(publishArgs(), noCredentials);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/no AWS credentials/);
  });

  it("neither --bucket nor --out-dir: exit 2", async () => {
    const result = await cli(["publish", "--key", "sa.pub"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--bucket NAME or --out-dir DIR/);
  });
});

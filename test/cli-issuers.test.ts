// Issuer URLs as users write them, through the built CLI against moto and real local servers:
// every S3 spelling of a bucket, documents STS could not read, percent-encoded and doubled
// slashes, forms AWS refuses, huge input and IAM's audience limits.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IAMClient, ListOpenIDConnectProvidersCommand } from "@aws-sdk/client-iam";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { startHttpsIssuer } from "./support/https-issuer.js";
import { generateTestKey, pem } from "./support/keys.js";
import {
  awsTestClientConfig,
  awsTestEnv,
  type MotoServer,
  s3TestClientConfig,
  startMoto,
} from "./support/moto.js";
import { freeLoopbackPort } from "./support/ports.js";
import { createCertificateAuthority } from "./support/tls.js";

const bucket = "issuer-bucket";
const region = "us-east-1";
let moto: MotoServer;
let s3: S3Client;
let iam: IAMClient;
let dir: string;
let env: Record<string, string>;
const ca = createCertificateAuthority();

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client(s3TestClientConfig(moto.endpoint));
  iam = new IAMClient(awsTestClientConfig(moto.endpoint));
  dir = await mkdtemp(join(tmpdir(), "irsa-cli-issuers-"));
  await writeFile(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));
  await writeFile(join(dir, "ca.pem"), ca.certPem);
  // An empty HOME: no ~/.aws of the machine can leak in; the test CA is trusted, as a real one would be.
  env = { ...awsTestEnv(moto.endpoint), HOME: dir, NODE_EXTRA_CA_CERTS: join(dir, "ca.pem") };
});
afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await moto.reset();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

const cli = (...args: string[]) => runCli(args, { env, isolated: true, cwd: dir });
const publish = (...extra: string[]) => cli("publish", "--key", "sa.pub", "--bucket", bucket, ...extra);
const objectKeys = async () =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key).sort();
const providerArns = async () =>
  ((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? []).map(
    (p) => p.Arn,
  );
const prodObjects = [
  "prod/.irsa-anywhere-state.json",
  "prod/.well-known/openid-configuration",
  "prod/keys.json",
];
const oneLine = (stderr: string) => expect(stderr.trimEnd().split("\n")).toHaveLength(1);

describe("path-style and other S3 spellings of the bucket", () => {
  // SELF_HOSTED_SETUP.md of the pod identity webhook: https://s3-$AWS_REGION.amazonaws.com/$S3_BUCKET
  it.each([
    [`https://s3-${region}.amazonaws.com/${bucket}/prod`],
    [`https://s3.${region}.amazonaws.com/${bucket}/prod`],
    [`https://s3.amazonaws.com/${bucket}/prod`],
    [`https://${bucket}.s3-${region}.amazonaws.com/prod`],
    [`https://${bucket}.s3.amazonaws.com/prod`],
    [`https://s3.dualstack.${region}.amazonaws.com/${bucket}/prod`],
  ])("publishes %s under the path after the bucket, and registers it", async (issuer) => {
    const result = await publish("--issuer", issuer, "--public-read-policy", "--json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).issuer).toBe(issuer);
    expect(await objectKeys()).toEqual(prodObjects);
    expect(await providerArns()).toEqual([expect.stringMatching(`:oidc-provider/${issuer.slice(8)}$`)]);
  });

  it("--external-issuer with the bucket's S3 URL does not put the bucket into the key prefix", async () => {
    const issuer = `https://s3-${region}.amazonaws.com/${bucket}/prod`;
    const result = await publish("--issuer", issuer, "--external-issuer", "--public-read-policy");
    expect(result.code).toBe(0);
    expect(await objectKeys()).toEqual(prodObjects);
  });

  it.each([
    [
      "another bucket's",
      `https://s3-${region}.amazonaws.com/other-bucket/prod`,
      /"other-bucket".*issuer-bucket/,
    ],
    ["another region's", `https://s3-eu-west-1.amazonaws.com/${bucket}/prod`, /eu-west-1.*us-east-1/],
  ])("refuses %s S3 URL, naming both, and writes nothing (exit 2)", async (_name, issuer, names) => {
    for (const extra of [[], ["--external-issuer"]]) {
      const result = await publish("--issuer", issuer, "--public-read-policy", ...extra);
      expect(result.code).toBe(2);
      oneLine(result.stderr);
      expect(result.stderr).toMatch(names);
    }
    expect(await objectKeys()).toEqual([]);
  });
});

describe("publish fails when STS could not read what it published", () => {
  it("documents that are not public: exit 1 with the fix", async () => {
    const result = await publish("--prefix", "prod");
    expect(result.code).toBe(1);
    oneLine(result.stderr);
    expect(result.stderr).toMatch(/HTTP 403 without credentials.*--public-read-policy/);
  });

  it("--external-issuer: other bytes at the issuer fail (exit 1); the bucket's bytes pass", async () => {
    const served = await startHttpsIssuer({ ca, path: "/prod" });
    try {
      served.publish([
        ...(await import("@irsa-anywhere/keys")).publicKeysFromPem(
          pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"),
          "other.pub",
        ),
      ]);
      const args = ["--issuer", served.issuer, "--external-issuer", "--public-read-policy"];
      const stale = await publish(...args);
      expect(stale.code).toBe(1);
      oneLine(stale.stderr);
      expect(stale.stderr).toMatch(/keys\.json serves other bytes .* than were published/);

      // Now the host serves the bucket's objects, as CloudFront in front of it would.
      for (const [path, key] of [
        [served.jwksPath, "prod/keys.json"],
        [served.discoveryPath, "prod/.well-known/openid-configuration"],
      ] as const) {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        served.routes.set(path, { body: (await object.Body?.transformToString()) ?? "" });
      }
      const fresh = await publish(...args);
      expect(fresh.stderr).toBe("");
      expect(fresh.code).toBe(0);
    } finally {
      await served.close();
    }
  });

  it("--external-issuer on a host this machine cannot reach: one warning line, exit 0", async () => {
    const issuer = `https://127.0.0.1:${await freeLoopbackPort()}/prod`;
    const result = await publish("--issuer", issuer, "--external-issuer", "--public-read-policy");
    expect(result.code).toBe(0);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(2); // one per document
    expect(result.stderr).toMatch(
      /^warning: could not read https:\/\/127\.0\.0\.1:\d+\/prod\/keys\.json from here \(the connection was refused\)/,
    );
  });
});

describe("issuer forms kube-apiserver accepts but AWS cannot use: exit 2, the rule, nothing written", () => {
  it.each([
    ["a trailing slash", `https://${bucket}.s3.${region}.amazonaws.com/prod/`, /OpenID Connect Discovery §4/],
    ["an upper-case host", `https://${bucket}.S3.${region}.amazonaws.com/prod`, /upper case in its host/],
    [
      "an explicit :443",
      `https://${bucket}.s3.${region}.amazonaws.com:443/prod`,
      /should not contain a port number/,
    ],
    ["userinfo", `https://me@${bucket}.s3.${region}.amazonaws.com/prod`, /RFC 9110 §4\.2\.4/],
    ["an empty path segment", `https://${bucket}.s3.${region}.amazonaws.com/a//prod`, /empty path segment/],
  ])("%s", async (_name, issuer, rule) => {
    const result = await publish("--issuer", issuer, "--public-read-policy");
    expect(result.code).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toMatch(rule);
    expect(await objectKeys()).toEqual([]);
    expect(await providerArns()).toEqual([]);
  });

  it("a 120 KB issuer gives a short line", async () => {
    const issuer = `https://oidc.example.com/${"a".repeat(120 * 1024)}/`;
    for (const args of [
      ["discovery", "--key", "sa.pub", "--issuer", issuer],
      ["publish", "--key", "sa.pub", "--bucket", bucket, "--issuer", issuer],
    ]) {
      const result = await cli(...args);
      expect(result.code).toBe(2);
      oneLine(result.stderr);
      expect(result.stderr.length).toBeLessThan(1000);
    }
  });
});

describe("audiences IAM would refuse: exit 2 naming --audience, before anything is written", () => {
  it.each([
    [
      "longer than 255 characters",
      ["--audience", "a".repeat(256)],
      /--audience "a+…" \(256 characters\) is longer than the 255/,
    ],
    [
      "more than 100",
      Array.from({ length: 101 }, (_, i) => ["--audience", `aud-${i}`]).flat(),
      /101 audiences.*at most 100/,
    ],
    [
      "with a newline",
      ["--audience", "sts.amazonaws.com\nx"],
      /--audience "sts\.amazonaws\.com\\nx" contains a newline/,
    ],
  ])("%s", async (_name, audiences, message) => {
    const result = await publish("--public-read-policy", ...audiences);
    expect(result.code).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toMatch(message);
    expect(await objectKeys()).toEqual([]);
  });
});

describe("percent-encoded and doubled slashes in the issuer's path", () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill();
  });

  it("puts c%34's documents where a static file server looks for them", async () => {
    const port = await freeLoopbackPort();
    const site = join(dir, "site");
    const issuer = `https://127.0.0.1:${port}/c%34`;
    const result = await cli("publish", "--key", "sa.pub", "--out-dir", "site", "--issuer", issuer);
    expect(result.code).toBe(0);
    // python's http.server, like nginx and S3, decodes the request path before it looks.
    server = spawn(
      "python3",
      ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", site],
      {
        stdio: "ignore",
      },
    );
    const base = `http://127.0.0.1:${port}`;
    let answer: Response | undefined;
    for (let attempt = 0; attempt < 100 && answer === undefined; attempt++) {
      answer = await fetch(`${base}/c%34/.well-known/openid-configuration`).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      });
    }
    expect(answer?.status).toBe(200);
    const discovery = (await answer?.json()) as { issuer: string; jwks_uri: string };
    expect(discovery.issuer).toBe(issuer);
    const keys = await fetch(`${base}${new URL(discovery.jwks_uri).pathname}`);
    expect(keys.status).toBe(200);
    expect(await keys.text()).toBe(await readFile(join(site, "c4", "keys.json"), "utf8"));
  });

  it("refuses // in discovery, publish and serve alike (exit 2)", async () => {
    const issuer = "https://oidc.example.com/a//b";
    for (const args of [
      ["discovery", "--key", "sa.pub", "--issuer", issuer],
      ["publish", "--key", "sa.pub", "--out-dir", "site2", "--issuer", issuer],
      ["serve", "--key", "sa.pub", "--issuer", issuer],
    ]) {
      const result = await cli(...args);
      expect(result.code).toBe(2);
      oneLine(result.stderr);
      expect(result.stderr).toMatch(/empty path segment/);
    }
  });
});

describe("an issuer derived from the bucket never replaces the one published there", () => {
  // Found running the README walkthrough with SELF_HOSTED_SETUP.md's spelling: a later run without
  // --issuer (a scheduled job, a rotate phase) derived the virtual-hosted spelling, rewrote the
  // discovery document's issuer and registered a second provider: STS would refuse every token.
  const selfHosted = `https://s3-${region}.amazonaws.com/${bucket}/prod`;
  const discovery = async () =>
    (
      await (
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "prod/.well-known/openid-configuration" }))
      ).Body?.transformToString()
    )?.toString();

  it.each([
    ["publish", () => publish("--prefix", "prod")],
    [
      "rotate prepare",
      () =>
        cli(
          "rotate",
          "prepare",
          "--key",
          "sa.pub",
          "--next-key",
          "next.pub",
          "--bucket",
          bucket,
          "--prefix",
          "prod",
        ),
    ],
  ])("%s without --issuer: exit 2, one line naming both, nothing written", async (_name, run) => {
    await writeFile(
      join(dir, "next.pub"),
      pem(generateTestKey({ type: "ec", curve: "P-256" }).publicKey, "spki"),
    );
    expect((await publish("--issuer", selfHosted, "--public-read-policy")).code).toBe(0);
    const before = { discovery: await discovery(), providers: await providerArns() };
    const result = await run();
    expect(result.code).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toContain(`is published for issuer "${selfHosted}"`);
    expect(result.stderr).toContain(`give --issuer "${selfHosted}"`);
    expect(await discovery()).toBe(before.discovery);
    expect(await providerArns()).toEqual(before.providers);
  });

  it("goes on with the issuer given again, and moves it only when --issuer names another", async () => {
    expect((await publish("--issuer", selfHosted, "--public-read-policy")).code).toBe(0);
    expect((await publish("--issuer", selfHosted, "--prefix", "prod")).code).toBe(0);
    const moved = await publish("--issuer", `https://${bucket}.s3.${region}.amazonaws.com/prod`, "--json");
    expect(moved.code).toBe(0);
    expect(JSON.parse((await discovery()) ?? "{}").issuer).toBe(
      `https://${bucket}.s3.${region}.amazonaws.com/prod`,
    );
  });
});

// `irsa-anywhere up` end to end, as a user runs it after `eksctl anywhere create cluster`: the
// built CLI against moto (S3, IAM, STS) behind a recording proxy and the local Kubernetes API test
// server holding the cluster's `prod-sa` secret. The issuer is a local HTTPS host serving the
// bucket's objects as they are at each request (as CloudFront in front of the bucket would), so
// that doctor, the last step, fetches what `up` published. A second `up` must make no AWS write
// and no Kubernetes write; a fault at each step must leave a state a re-run completes.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreatePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cloudFrontAndAcmActions } from "./support/aws-actions.js";
import { type CliResult, runCli } from "./support/cli.js";
import { type FakeKubernetes, signingKeySecret, startFakeKubernetes } from "./support/fake-kubernetes.js";
import { type HttpsIssuer, startHttpsIssuer } from "./support/https-issuer.js";
import { CHECKS_THAT_FETCH_THE_ISSUER } from "./support/issuer-fetching-checks.js";
import {
  awsTestClientConfig,
  awsTestEnv,
  type MotoServer,
  s3TestClientConfig,
  startMoto,
} from "./support/moto.js";
import { type RecordedRequest, type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";
import { createCertificateAuthority } from "./support/tls.js";

const bucket = "my-oidc-bucket";
const roleName = "payments-api";
const policyArn = "arn:aws:iam::123456789012:policy/read-reports"; // moto's account

let moto: MotoServer;
let proxy: RecordingProxy;
let s3: S3Client;
let iam: IAMClient;
let kube: FakeKubernetes;
let issuer: HttpsIssuer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  const ca = createCertificateAuthority();
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client(s3TestClientConfig(moto.endpoint));
  iam = new IAMClient(awsTestClientConfig(moto.endpoint));
  kube = await startFakeKubernetes(ca);
  issuer = await startHttpsIssuer({
    ca,
    path: "/prod",
    // The bucket's objects under the issuer's path, read from moto at each request.
    origin: async (path) => {
      const object = await s3
        .send(new GetObjectCommand({ Bucket: bucket, Key: path.slice(1) }))
        .catch(() => undefined);
      if (!object) return undefined;
      return {
        headers: {
          "content-type": object.ContentType ?? "",
          "cache-control": object.CacheControl ?? "",
          "last-modified": (object.LastModified ?? new Date()).toUTCString(),
        },
        body: (await object.Body?.transformToString()) ?? "",
      };
    },
  });
  dir = await mkdtemp(join(tmpdir(), "irsa-up-"));
  await writeFile(join(dir, "kubeconfig"), kube.kubeconfig());
  await writeFile(join(dir, "ca.pem"), ca.certPem);
  env = { ...awsTestEnv(proxy.url), HOME: dir, NODE_EXTRA_CA_CERTS: join(dir, "ca.pem") };
}, 60_000);
afterAll(async () => {
  s3?.destroy();
  iam?.destroy();
  await issuer?.close();
  await kube?.close();
  await proxy?.close();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await moto.reset();
  proxy.clear();
  proxy.rewrite = undefined;
  kube.objects.clear();
  kube.readOnly.clear();
  kube.failWith(undefined);
  kube.setDeploymentsReady(true);
  kube.setSecret("eksa-system", "prod-sa", signingKeySecret().data);
  kube.objects.set("/api/v1/namespaces/payments", { metadata: { name: "payments" } });
  kube.requests.length = 0;
  kube.seen.length = 0;
  // What `init` made before the cluster existed.
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // The first workload's permissions, made by its owner.
  await iam.send(
    new CreatePolicyCommand({
      PolicyName: "read-reports",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::reports/*" }],
      }),
    }),
  );
});

/** `up` for the cluster prod and the bucket's `prefix`, with `where` the issuer's options. */
const runUp = (prefix: string, where: readonly string[], extra: readonly string[]): Promise<CliResult> =>
  runCli(
    [
      "up",
      "--cluster",
      "prod",
      "--kubeconfig",
      "kubeconfig",
      "--bucket",
      bucket,
      "--prefix",
      prefix,
      ...where,
      ...extra,
    ],
    { env, isolated: true, cwd: dir },
  );
/** `up` with the local issuer serving the bucket's objects, which doctor trusts. */
const up = (...extra: string[]) =>
  runUp("prod", ["--issuer", issuer.issuer, "--external-issuer", "--ca-file", "ca.pem"], extra);
const withRole = [
  "--service-account",
  "payments/api",
  "--role-name",
  roleName,
  "--attach-policy-arn",
  policyArn,
];

/** What `up` wrote to AWS: S3 writes, and IAM and CloudFront calls that are not reads. */
function awsWrites(): string[] {
  return proxy.requests.flatMap((request) => {
    const action = /Action=(\w+)/.exec(request.body)?.[1];
    if (action !== undefined)
      return /^(Get|List|AssumeRoleWithWebIdentity|GetCallerIdentity)/.test(action) ? [] : [action];
    return ["PUT", "POST", "DELETE"].includes(request.method) ? [`${request.method} ${request.path}`] : [];
  });
}

/** What `up` wrote to the cluster: anything but reads, dry runs and access reviews. */
function kubeWrites(): string[] {
  return kube.seen
    .filter(
      (request) =>
        request.method !== "GET" &&
        !/dryRun=All/.test(request.query) &&
        !request.path.includes("accessreviews"),
    )
    .map((request) => `${request.method} ${request.path}`);
}

const lines = (text: string) => text.trimEnd().split("\n");

describe("irsa-anywhere up", () => {
  it("sets everything up in five steps, one line each, then a second run writes nothing", async () => {
    const first = await up(...withRole);
    expect(first.code).toBe(0);
    expect(lines(first.stderr)).toEqual([
      "[1/5] read the keys: done, 1 key(s) from secret eksa-system/prod-sa (and the private key, for doctor's smoke test)",
      `[2/5] publish the issuer and register the IAM OIDC provider: done, issuer ${issuer.issuer}: 3 change(s) made`,
      "[3/5] install the pod identity webhook: done, 12 created, 0 changed, 0 unchanged; every replica ready",
      expect.stringMatching(
        /^\[4\/5\] create the role and its service account: done, role arn:aws:iam::123456789012:role\/payments-api for payments\/api: \d change\(s\) made$/,
      ),
      expect.stringMatching(/^\[5\/5\] run doctor: done, \d+ passed, \d+ warning\(s\), 0 failed$/),
    ]);
    // Doctor's summary, with the smoke test through STS.
    expect(first.stdout).toMatch(
      /^PASS {2}STS AssumeRoleWithWebIdentity answers with credentials: assumed /m,
    );
    expect(first.stdout).toMatch(/^\d+ passed, \d+ warnings?, 0 failed/m);
    expect(kube.objects.get("/api/v1/namespaces/payments/serviceaccounts/api")).toMatchObject({
      metadata: {
        annotations: { "eks.amazonaws.com/role-arn": `arn:aws:iam::123456789012:role/${roleName}` },
      },
    });

    proxy.clear();
    kube.seen.length = 0;
    const second = await up(...withRole);
    expect(second.code).toBe(0);
    expect(awsWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
    expect(lines(second.stderr).slice(1, 4)).toEqual([
      `[2/5] publish the issuer and register the IAM OIDC provider: unchanged, issuer ${issuer.issuer}`,
      "[3/5] install the pod identity webhook: unchanged, installed in irsa-anywhere and healthy",
      `[4/5] create the role and its service account: unchanged, role arn:aws:iam::123456789012:role/${roleName} for payments/api`,
    ]);
  }, 120_000);

  it("without a first role: the role step is skipped and doctor runs without the smoke test", async () => {
    const result = await up();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      "[4/5] create the role and its service account: skipped, no --service-account and --role-name given",
    );
    expect(result.stdout).toMatch(/^SKIP {2}STS AssumeRoleWithWebIdentity/m);
  }, 120_000);

  it("--dry-run prints every step's plan and writes nothing", async () => {
    const result = await up(...withRole, "--dry-run");
    expect(result.code).toBe(0);
    expect(awsWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
    expect(result.stdout).toMatch(/^Dry run: nothing was written\./);
    expect(result.stdout).toMatch(/^# publish\n/m);
    expect(result.stdout).toMatch(/would create +IAM OIDC provider/);
    expect(result.stdout).toMatch(/^create +Deployment irsa-anywhere\/pod-identity-webhook/m);
    expect(result.stdout).toMatch(/^# role\nwould create or update role payments-api for payments\/api/m);
    expect(result.stderr).toContain("[5/5] run doctor: planned, doctor runs after the other steps");
  }, 120_000);

  it("--log-format json: one JSON line per step", async () => {
    const result = await up("--log-format", "json");
    expect(result.code).toBe(0);
    const steps = lines(result.stderr)
      .map((line) => JSON.parse(line) as { action: string; step: string; outcome: string })
      .filter((event) => event.action === "up-step");
    expect(steps.map(({ step, outcome }) => `${step} ${outcome}`)).toEqual([
      "keys done",
      "publish done",
      "webhook done",
      "role skipped",
      "doctor done",
    ]);
  }, 120_000);

  it.each([
    [
      "--service-account payments/api alone",
      ["--service-account", "payments/api"],
      /needs both --service-account/,
    ],
    [
      "--attach-policy-arn without a role",
      ["--attach-policy-arn", policyArn],
      /--attach-policy-arn is for the first role/,
    ],
  ])("refuses %s before any request (exit 2)", async (_name, extra, message) => {
    const result = await up(...extra);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(message)]);
    expect(proxy.requests).toEqual([]);
    expect(kube.seen).toEqual([]);
  });
});

/** An IAM or S3 request, by its IAM action or its S3 method and object key. */
const isIam = (action: string) => (request: RecordedRequest) => request.body.includes(`Action=${action}`);

describe("a fault at each step, then a re-run that completes", () => {
  it.each([
    {
      fault: "the API server answering 500",
      step: '[1/5] "read the keys"',
      done: "nothing yet",
      exitCode: 1,
      inject: () => kube.failWith(500),
      heal: () => kube.failWith(undefined),
    },
    {
      fault: "AWS answering 500 to CreateOpenIDConnectProvider",
      step: '[2/5] "publish the issuer and register the IAM OIDC provider"',
      done: "read the keys (done)",
      exitCode: 1,
      // AWS at fault on every try of the provider's registration, after the documents went up.
      inject: () => proxy.failNext(10, { status: 500, match: isIam("CreateOpenIDConnectProvider") }),
      heal: () => proxy.clear(),
    },
    {
      fault: "the API server refusing to write the Deployment",
      step: '[3/5] "install the pod identity webhook"',
      done: "read the keys (done); publish the issuer and register the IAM OIDC provider (done)",
      exitCode: 1,
      inject: () =>
        kube.readOnly.add("/apis/apps/v1/namespaces/irsa-anywhere/deployments/pod-identity-webhook"),
      heal: () => kube.readOnly.clear(),
    },
    {
      // Applied, but never ready within --timeout. Once its pods start, the re-run finds the
      // objects as they should be and the webhook healthy, and goes on.
      fault: "the webhook's Deployment never ready",
      step: '[3/5] "install the pod identity webhook"',
      done: "read the keys (done); publish the issuer and register the IAM OIDC provider (done)",
      exitCode: 1,
      extra: ["--timeout", "10s"],
      inject: () => kube.setDeploymentsReady(false),
      heal: () => kube.setDeploymentsReady(true),
    },
    {
      fault: "AWS answering 500 to AttachRolePolicy",
      step: '[4/5] "create the role and its service account"',
      done: "read the keys (done); publish the issuer and register the IAM OIDC provider (done); install the pod identity webhook (done)",
      exitCode: 1,
      inject: () => proxy.failNext(10, { status: 500, match: isIam("AttachRolePolicy") }),
      heal: () => proxy.clear(),
    },
  ])(
    "$fault: stops at $step",
    async ({ step, done, exitCode, inject, heal, extra }) => {
      inject();
      const failed = await up(...withRole, ...(extra ?? []));
      expect(failed.code).toBe(exitCode);
      const failure = lines(failed.stderr).at(-1);
      expect(failure).toContain(`irsa-anywhere: up stopped at step ${step}`);
      expect(failure).toContain(`(done before it: ${done}); fix that and run the same up again`);
      heal();
      const rerun = await up(...withRole);
      expect(rerun.stderr).toMatch(/\[5\/5\] run doctor: done, \d+ passed, \d+ warning\(s\), 0 failed/);
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toMatch(/^PASS {2}STS AssumeRoleWithWebIdentity answers with credentials/m);
    },
    120_000,
  );
});

/** `up` through CloudFront: the issuer is the distribution's domain, which resolves nowhere here. */
const upThroughCloudFront = (...extra: string[]) => runUp("edge", ["--cloudfront"], extra);

describe("irsa-anywhere up --cloudfront", () => {
  it("makes the distribution, and a second run writes nothing", async () => {
    const first = await upThroughCloudFront(...withRole);
    const steps = lines(first.stderr).filter((line) => /^\[\d\/5\]/.test(line));
    expect(steps.slice(0, 4).map((line) => line.split(",")[0])).toEqual([
      "[1/5] read the keys: done",
      "[2/5] publish the issuer and register the IAM OIDC provider: done",
      "[3/5] install the pod identity webhook: done",
      "[4/5] create the role and its service account: done",
    ]);
    expect(steps[1]).toMatch(/issuer https:\/\/\w+\.cloudfront\.net\/edge/);
    // The distribution's host resolves nowhere here: doctor can only fail to fetch from it.
    expect(first.code).toBe(1);
    const failed = lines(first.stdout).filter((line) => line.startsWith("FAIL"));
    for (const line of failed) expect(line.slice(6)).toMatch(CHECKS_THAT_FETCH_THE_ISSUER);

    proxy.clear();
    kube.seen.length = 0;
    const second = await upThroughCloudFront(...withRole);
    expect(second.code).toBe(1);
    expect(awsWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
  }, 180_000);
});

/** The IAM action of an S3 request `up` makes. */
function s3ActionOf(request: RecordedRequest): string {
  const [path = "", query = ""] = request.path.split("?");
  const onObject = path.split("/").filter(Boolean).length > 1;
  if (onObject) return request.method === "PUT" ? "s3:PutObject" : "s3:GetObject";
  if (query.startsWith("policy"))
    return request.method === "PUT" ? "s3:PutBucketPolicy" : "s3:GetBucketPolicy";
  if (query.startsWith("publicAccessBlock")) return "s3:GetBucketPublicAccessBlock";
  if (request.method === "HEAD" || query.includes("list-type")) return "s3:ListBucket";
  return `unknown: ${request.method} ${request.path}`;
}

/** The IAM actions behind the requests `up` sent; STS's AssumeRoleWithWebIdentity needs none. */
function actionsOf(requests: readonly RecordedRequest[]): string[] {
  return requests.flatMap((request) => {
    const action = /Action=(\w+)/.exec(request.body)?.[1];
    if (action === "AssumeRoleWithWebIdentity" || action === "GetCallerIdentity") return [];
    if (action !== undefined) return [`iam:${action}`];
    if (!request.signed) return [];
    const edge = cloudFrontAndAcmActions([request]);
    if (edge.length > 0 || request.path.startsWith("/2020-05-31/") || request.headers["x-amz-target"])
      return edge;
    return [s3ActionOf(request)];
  });
}

/**
 * What the policy also grants for what these runs do not meet: a bucket policy or Block Public
 * Access to read (publish), a rotation's invalidation, a custom domain's certificate, a provider
 * missing an audience, a role made by someone else (its tags). The publisher's policy grants them
 * for the same cases.
 */
const grantedForCasesNotRun = [
  "s3:ListBucket",
  "s3:GetBucketPublicAccessBlock",
  "cloudfront:CreateInvalidation",
  "cloudfront:GetInvalidation",
  "acm:DescribeCertificate",
  "iam:AddClientIDToOpenIDConnectProvider",
  "iam:TagOpenIDConnectProvider",
];

describe("examples/iam/up-policy.json", () => {
  it("grants every call up makes, through S3 and through CloudFront, and nothing it never makes", async () => {
    const used = new Set<string>();
    for (const run of [
      () => up(...withRole),
      () => up(...withRole),
      () => upThroughCloudFront(...withRole),
    ]) {
      proxy.clear();
      await run();
      for (const action of actionsOf(proxy.requests)) used.add(action);
    }
    const example = JSON.parse(
      await readFile(new URL("../examples/iam/up-policy.json", import.meta.url), "utf8"),
    ) as { Statement: Array<{ Action: string | string[] }> };
    const granted = example.Statement.flatMap((statement) => [statement.Action].flat());
    expect(granted.sort()).toEqual([...new Set([...used, ...grantedForCasesNotRun])].sort());
  }, 240_000);
});

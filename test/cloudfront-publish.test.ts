// publish({ cloudFront }) against moto's CloudFront, ACM, S3 and IAM through the real AWS SDK,
// with a recording proxy in front to count what a publish sent, and a local HTTPS "edge" that
// plays CloudFront's part for the read-back: it reads the bucket as the distribution's origin
// access control does (allowed only by the bucket policy statement for that distribution),
// caches by the objects' Cache-Control, and drops what an invalidation in moto names.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACMClient, ImportCertificateCommand } from "@aws-sdk/client-acm";
import {
  CloudFrontClient,
  DeleteDistributionCommand,
  type DistributionConfig,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  ListInvalidationsCommand,
  ListOriginAccessControlsCommand,
  UpdateDistributionCommand,
} from "@aws-sdk/client-cloudfront";
import { IAMClient, ListOpenIDConnectProvidersCommand } from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { httpsGet } from "@irsa-anywhere/discovery";
import { diagnose } from "@irsa-anywhere/doctor";
import { type PublicSigningKey, publicKeysFromPem } from "@irsa-anywhere/keys";
import { type BucketPublishOptions, PublishError, publish } from "@irsa-anywhere/publisher";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cloudFrontAndAcmActions } from "./support/aws-actions.js";
import { runCli } from "./support/cli.js";
import { startHttpsIssuer } from "./support/https-issuer.js";
import { type RunningHttpsServer, startHttpsServer } from "./support/https-server.js";
import { generateTestKey, pem } from "./support/keys.js";
import { awsTestEnv, type MotoServer, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";
import { createCertificateAuthority, issueServerCertificate } from "./support/tls.js";

const region = "us-west-2";
const bucket = "private-oidc-bucket";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const ca = createCertificateAuthority();
let moto: MotoServer;
let proxy: RecordingProxy;
let s3: S3Client;
let iam: IAMClient;
let sts: STSClient;
let cloudFront: CloudFrontClient;
let acm: ACMClient;
let edge: Edge;

const newKey = (): PublicSigningKey[] =>
  publicKeysFromPem(pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"), "sa.pub");
const keyA = newKey();
const keyB = newKey();

interface Edge {
  server: RunningHttpsServer;
  /** Served bodies by path, as cached; dropped by an invalidation. */
  cache: Map<string, { body: string; cachedAt: number }>;
  served: Array<{ path: string; status: number; fromCache: boolean }>;
  fetch: typeof fetch;
  /** The publisher's read-back, reaching this edge where DNS would. */
  httpsGet: typeof httpsGet;
}

/** The bucket policy lets this distribution read this key, as S3 decides for an OAC's request. */
async function distributionMayRead(distributionArn: string, key: string): Promise<boolean> {
  let policy: { Statement?: Array<Record<string, unknown>> };
  try {
    policy = JSON.parse((await edgeS3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? "{}");
  } catch {
    return false;
  }
  return (policy.Statement ?? []).some((statement) => {
    const principal = statement.Principal as { Service?: string } | undefined;
    const condition = statement.Condition as { StringEquals?: Record<string, string> } | undefined;
    return (
      statement.Effect === "Allow" &&
      principal?.Service === "cloudfront.amazonaws.com" &&
      condition?.StringEquals?.["AWS:SourceArn"] === distributionArn &&
      [statement.Resource].flat().includes(`arn:aws:s3:::${bucket}/${key}`)
    );
  });
}

// The edge's own reads go to moto directly, so that the proxy records only what a publish sent.
let edgeS3: S3Client;
let edgeCloudFront: CloudFrontClient;

// What CloudFront answers with (CachingOptimized passes the origin's Cache-Control on).
const cloudFrontHeaders = {
  "content-type": "application/json",
  "cache-control": "public, max-age=300",
  "x-amz-cf-id": "edge-request-id",
  via: "1.1 edge.cloudfront.net (CloudFront)",
};

async function startEdge(): Promise<Edge> {
  const cache = new Map<string, { body: string; cachedAt: number }>();
  const served: Edge["served"] = [];
  const tls = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
  const server = await startHttpsServer(
    async (request, response) => {
      const path = request.url?.split("?")[0] ?? "/";
      const list = await edgeCloudFront.send(new ListDistributionsCommand({}));
      const distribution = list.DistributionList?.Items?.[0];
      // Invalidations made since a path was cached drop it.
      const invalidations = distribution?.Id
        ? ((await edgeCloudFront.send(new ListInvalidationsCommand({ DistributionId: distribution.Id })))
            .InvalidationList?.Items ?? [])
        : [];
      for (const summary of invalidations) {
        const made = summary.CreateTime?.getTime() ?? 0;
        const invalidation = await edgeCloudFront.send(
          new (await import("@aws-sdk/client-cloudfront")).GetInvalidationCommand({
            DistributionId: distribution?.Id,
            Id: summary.Id,
          }),
        );
        for (const invalidated of invalidation.Invalidation?.InvalidationBatch?.Paths?.Items ?? []) {
          const cached = cache.get(invalidated);
          if (cached && cached.cachedAt <= made) cache.delete(invalidated);
        }
      }
      const cached = cache.get(path);
      if (cached) {
        served.push({ path, status: 200, fromCache: true });
        response.writeHead(200, cloudFrontHeaders);
        response.end(cached.body);
        return;
      }
      const key = decodeURIComponent(path.slice(1));
      if (!distribution?.ARN || !(await distributionMayRead(distribution.ARN, key))) {
        served.push({ path, status: 403, fromCache: false });
        response.writeHead(403, { "content-type": "application/xml" });
        response.end("<Error><Code>AccessDenied</Code></Error>");
        return;
      }
      const object = await edgeS3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = (await object.Body?.transformToString()) ?? "";
      if (/max-age=\d+/.test(object.CacheControl ?? "")) cache.set(path, { body, cachedAt: Date.now() });
      served.push({ path, status: 200, fromCache: false });
      response.writeHead(200, cloudFrontHeaders);
      response.end(body);
    },
    { cert: tls.certPem, key: tls.keyPem },
  );
  // What DNS would do: the distribution's host (or the custom domain) reaches the edge.
  const edgeFetch = (async (input: string | URL | Request) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const target = new URL(`${url.pathname}${url.search}`, server.url);
    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpsRequest(target, { ca: ca.certPem, method: "GET" }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () =>
          resolve(new Response(Buffer.concat(chunks), { status: answer.statusCode ?? 502 })),
        );
        answer.on("error", reject);
      });
      outgoing.on("error", reject);
      outgoing.end();
    });
  }) as typeof fetch;
  const edgeGet: typeof httpsGet = (url, options) => {
    const at = new URL(url);
    return httpsGet(new URL(`${at.pathname}${at.search}`, server.url).href, { ...options, ca: [ca.certPem] });
  };
  return { server, cache, served, fetch: edgeFetch, httpsGet: edgeGet };
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client({ region, endpoint: proxy.url, forcePathStyle: true, credentials });
  iam = new IAMClient({ region: "us-east-1", endpoint: proxy.url, credentials });
  sts = new STSClient({ region, endpoint: proxy.url, credentials });
  cloudFront = new CloudFrontClient({ region: "us-east-1", endpoint: proxy.url, credentials });
  acm = new ACMClient({ region: "us-east-1", endpoint: proxy.url, credentials });
  edgeS3 = new S3Client({ region, endpoint: moto.endpoint, forcePathStyle: true, credentials });
  edgeCloudFront = new CloudFrontClient({ region: "us-east-1", endpoint: moto.endpoint, credentials });
  edge = await startEdge();
});
afterAll(async () => {
  await edge?.server.close();
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  edge.cache.clear();
  edge.served.length = 0;
  await s3.send(
    new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region } }),
  );
  // Block Public Access fully on: what organisations that forbid public buckets have.
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  proxy.clear();
  // moto does not apply Block Public Access to anonymous reads; the proxy refuses them as S3 would.
  proxy.denyAnonymous = true;
});

function options(extra: Partial<BucketPublishOptions> = {}): BucketPublishOptions {
  return {
    keys: keyA,
    bucket,
    prefix: "prod",
    region,
    endpointUrl: proxy.url,
    clients: { s3, iam, sts, cloudFront, acm, httpsGet: edge.httpsGet },
    cloudFront: { pollIntervalMs: 10, waitTimeoutMs: 5_000 },
    ...extra,
  };
}

const changes = () =>
  proxy.requests.filter(
    (r) =>
      r.method === "PUT" ||
      r.method === "DELETE" ||
      (r.method === "POST" &&
        !/Action=(List|Get)/.test(r.body) &&
        !/DescribeCertificate/.test(String(r.headers["x-amz-target"]))),
  );
const stateKey = "prod/.irsa-anywhere-state.json";
const stored = async (key: string) =>
  (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? "";
/** What a publish sent, by action, in the order the proxy received it. */
const sent = () =>
  proxy.requests.map((r) =>
    r.path.startsWith("/2020-05-31/distribution")
      ? "ListDistributions"
      : r.path.includes("?policy")
        ? `${r.method === "PUT" ? "Put" : "Get"}BucketPolicy`
        : (new URLSearchParams(r.body).get("Action") ?? `${r.method} ${r.path.split("?")[0]}`),
  );
/** What the full path of a republish that changes nothing sends after the state, which it reads no second time; sorted. */
const fullPathAfterState = [
  "GET /private-oidc-bucket/prod/.well-known/openid-configuration",
  "GET /private-oidc-bucket/prod/keys.json",
  "GetBucketPolicy",
  "GetOpenIDConnectProvider",
  "ListDistributions",
];
const invalidations = () =>
  proxy.requests.filter((r) => r.method === "POST" && /\/invalidation$/.test(r.path));

describe("publish through CloudFront from a private bucket", () => {
  it("creates the distribution, publishes with Block Public Access on, and makes no public grant", async () => {
    const result = await publish(options());
    expect(result.warnings).toEqual([]);
    const distribution = result.distribution;
    expect(distribution).toMatchObject({ action: "create", status: "Deployed" });
    expect(distribution?.domainName).toMatch(/\.cloudfront\.net$/);
    expect(result.issuer).toBe(`https://${distribution?.domainName}/prod`);
    expect(result.documents.map((d) => d.action)).toEqual(["create", "create"]);

    const config = (await cloudFront.send(new GetDistributionConfigCommand({ Id: distribution?.id })))
      .DistributionConfig;
    const origin = config?.Origins?.Items?.[0];
    expect(origin?.DomainName).toBe(`${bucket}.s3.${region}.amazonaws.com`);
    const controls = (await cloudFront.send(new ListOriginAccessControlsCommand({}))).OriginAccessControlList
      ?.Items;
    expect(controls?.find((c) => c.Id === origin?.OriginAccessControlId)).toMatchObject({
      SigningProtocol: "sigv4",
      SigningBehavior: "always",
      OriginAccessControlOriginType: "s3",
    });
    expect(config?.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: "redirect-to-https",
      CachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
      AllowedMethods: { Items: ["GET", "HEAD"] },
    });
    expect(config?.PriceClass).toBe("PriceClass_100");

    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? "{}");
    expect(policy.Statement).toEqual([
      {
        Sid: result.bucketPolicy?.sid,
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: [
          `arn:aws:s3:::${bucket}/prod/.well-known/openid-configuration`,
          `arn:aws:s3:::${bucket}/prod/keys.json`,
        ],
        Condition: { StringEquals: { "AWS:SourceArn": distribution?.arn } },
      },
    ]);
    // examples/iam/cloudfront-bucket-policy.json shows this statement, up to its Sid and ARN.
    const example = JSON.parse(
      await readFile(new URL("../examples/iam/cloudfront-bucket-policy.json", import.meta.url), "utf8"),
    );
    const shape = (statement: Record<string, unknown>) => ({
      ...statement,
      Sid: "",
      Condition: Object.keys(statement.Condition as object),
    });
    expect(shape(example.Statement[0])).toEqual({
      ...shape(policy.Statement[0]),
      Resource: [
        `arn:aws:s3:::my-oidc-bucket/prod/.well-known/openid-configuration`,
        `arn:aws:s3:::my-oidc-bucket/prod/keys.json`,
      ],
    });
    // No public grant of any kind: no ACL header, no public-access-block change.
    expect(
      proxy.requests.filter((r) => /[?&](acl|publicAccessBlock)/.test(r.path) && r.method === "PUT"),
    ).toEqual([]);

    // The edge served the documents to the read-back (both at once, in either order), and never
    // the publisher's private state.
    expect(edge.served.map((s) => [s.path, s.status]).sort()).toEqual([
      ["/prod/.well-known/openid-configuration", 200],
      ["/prod/keys.json", 200],
    ]);
    const state = await edge.fetch(`${result.issuer}/.irsa-anywhere-state.json`);
    expect(state.status).toBe(403);

    const providers = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(providers.OpenIDConnectProviderList?.map((p) => p.Arn)).toEqual([
      `arn:aws:iam::123456789012:oidc-provider/${distribution?.domainName}/prod`,
    ]);
    expect(invalidations()).toEqual([]);
  });

  it("keeps the bucket's own statements, and warns of one that still makes the documents public", async () => {
    const theirs = {
      Sid: "Theirs",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:DeleteObject",
      Resource: `arn:aws:s3:::${bucket}/*`,
    };
    const leftover = {
      Sid: "OldPublicRead",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "s3:Get*",
      Resource: `arn:aws:s3:::${bucket}/prod/*`,
    };
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: [theirs, leftover] }),
      }),
    );
    const result = await publish(options());
    expect(result.bucketPolicy).toMatchObject({ action: "update", written: true });
    expect(result.warnings).toEqual([
      `bucket ${bucket}'s policy statement "OldPublicRead" still lets anyone read the documents, which CloudFront now serves from the private bucket; remove it (aws s3api get-bucket-policy / put-bucket-policy --bucket ${bucket})`,
    ]);
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? "{}");
    expect(policy.Statement.map((statement: { Sid: string }) => statement.Sid)).toEqual([
      "Theirs",
      "OldPublicRead",
      result.bucketPolicy?.sid,
    ]);
  });

  it("a re-run finds the same distribution, changes nothing and makes only reads", async () => {
    const first = await publish(options());
    proxy.clear();
    proxy.denyAnonymous = true;
    edge.served.length = 0;
    const rerun = await publish(options());
    // What a no-op costs (issue 16: at most 4 requests, 2 round trips): the state, read signed,
    // which records the distribution and the provider; then, once it is in, the provider it
    // names, and both documents read through the edge as STS reads them.
    expect(sent()).toEqual([
      "GET /private-oidc-bucket/prod/.irsa-anywhere-state.json",
      "GetOpenIDConnectProvider",
    ]);
    expect(edge.served.map((s) => [s.path, s.status]).sort()).toEqual([
      ["/prod/.well-known/openid-configuration", 200],
      ["/prod/keys.json", 200],
    ]);
    expect(rerun.distribution).toMatchObject({
      id: first.distribution?.id,
      arn: first.distribution?.arn,
      domainName: first.distribution?.domainName,
      action: "unchanged",
      status: "Deployed",
    });
    expect(rerun.bucketPolicy).toMatchObject({
      action: "unchanged",
      written: false,
      sid: first.bucketPolicy?.sid,
    });
    expect(rerun.oidcProvider).toMatchObject({ arn: first.oidcProvider?.arn, action: "unchanged" });
    expect(rerun.documents.map((d) => [d.action, d.written])).toEqual([
      ["unchanged", false],
      ["unchanged", false],
    ]);
    expect(rerun.warnings).toEqual([]);
    expect(rerun.issuer).toBe(first.issuer);
    expect(rerun.changed).toBe(false);
    expect(changes()).toEqual([]);
    expect(invalidations()).toEqual([]);
    const list = await cloudFront.send(new ListDistributionsCommand({}));
    expect(list.DistributionList?.Items).toHaveLength(1);
  });

  it("a dry run of a republish that changes nothing makes the same two reads", async () => {
    await publish(options());
    proxy.clear();
    proxy.denyAnonymous = true;
    const planned = await publish(options({ dryRun: true }));
    expect(planned).toMatchObject({ dryRun: true, changed: false });
    expect(planned.documents.map((d) => d.action)).toEqual(["unchanged", "unchanged"]);
    expect(sent()).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
  });

  it("a hand-removed bucket policy statement: once the edge's copies expire it answers 403, and the full path puts the statement back", async () => {
    const first = await publish(options());
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    // Until then the edge serves its copies, as STS would get them (see republishUnchanged).
    edge.cache.clear();
    proxy.clear();
    proxy.denyAnonymous = true;
    edge.served.length = 0;
    const repaired = await publish(options());
    expect(repaired.bucketPolicy).toMatchObject({ written: true, sid: first.bucketPolicy?.sid });
    expect(repaired.warnings).toEqual([]);
    // The state, the provider and the edge's refusals; then today's full path, the statement
    // written before the documents are read back through the edge again.
    expect(sent().slice(0, 2)).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
    expect(sent().slice(2).sort()).toEqual([...fullPathAfterState, "PutBucketPolicy"].sort());
    expect(edge.served.map((s) => [s.path, s.status]).sort()).toEqual([
      ["/prod/.well-known/openid-configuration", 200],
      ["/prod/.well-known/openid-configuration", 403],
      ["/prod/keys.json", 200],
      ["/prod/keys.json", 403],
    ]);
    expect(await distributionMayRead(first.distribution?.arn ?? "", "prod/keys.json")).toBe(true);
  });

  it("a state from before it recorded the distribution: the full path, which records it; then the short one", async () => {
    const first = await publish(options());
    const { servedAt, ...older } = JSON.parse(await stored(stateKey));
    expect(servedAt).toEqual({
      issuer: first.issuer,
      cloudFront: {
        id: first.distribution?.id,
        arn: first.distribution?.arn,
        domainName: first.distribution?.domainName,
      },
    });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: stateKey, Body: JSON.stringify(older) }));
    proxy.clear();
    proxy.denyAnonymous = true;
    const upgraded = await publish(options());
    expect(upgraded.changed).toBe(false);
    expect(upgraded.documents.map((d) => d.written)).toEqual([false, false]);
    // The state, read once for both paths; the rest of the full path; one conditional state write.
    expect(sent()[0]).toBe(`GET /${bucket}/${stateKey}`);
    expect(sent().slice(1).sort()).toEqual([...fullPathAfterState, `PUT /${bucket}/${stateKey}`].sort());
    expect(proxy.requests.at(-1)?.headers["if-match"]).toBeDefined();
    expect(JSON.parse(await stored(stateKey)).servedAt).toEqual(servedAt);
    proxy.clear();
    await publish(options());
    expect(sent()).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
  });

  it("a deleted distribution: the edge refuses, and the full path never exits 0 for the old issuer", async () => {
    const first = await publish(options());
    const id = first.distribution?.id;
    const { DistributionConfig: config, ETag } = await cloudFront.send(
      new GetDistributionConfigCommand({ Id: id }),
    );
    const disabled = await cloudFront.send(
      new UpdateDistributionCommand({
        Id: id,
        IfMatch: ETag,
        DistributionConfig: { ...config, Enabled: false } as DistributionConfig,
      }),
    );
    await cloudFront.send(new DeleteDistributionCommand({ Id: id, IfMatch: disabled.ETag }));
    edge.cache.clear();
    proxy.clear();
    proxy.denyAnonymous = true;
    const failure = publish(options());
    // Today's full path: a new distribution is a new issuer, which the published documents refuse.
    await expect(failure).rejects.toMatchObject({ code: "ERR_ISSUER_MISMATCH" });
    expect(sent().slice(0, 2)).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
    expect(sent()).toContain("ListDistributions");
  });

  it("a no-op beside a key change: both succeed and neither key is lost", async () => {
    await publish(options());
    const [noop, change] = await Promise.all([publish(options()), publish(options({ keys: keyB }))]);
    expect([noop.warnings, change.warnings]).toEqual([[], []]);
    const kids = (JSON.parse(await stored("prod/keys.json")) as { keys: Array<{ kid: string }> }).keys.map(
      (key) => key.kid,
    );
    expect(kids).toEqual(expect.arrayContaining([keyA[0]?.kid, keyB[0]?.kid]));
    // The edge serves the new keys.json (invalidated), which a republish of the new key proves.
    proxy.clear();
    const after = await publish(options({ keys: keyB }));
    expect(after.changed).toBe(false);
    expect(sent()).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
  });

  it("a JWKS change makes exactly one invalidation, of exactly keys.json, and the read-back sees the new bytes", async () => {
    await publish(options());
    // The edge now holds the old keys.json for five minutes.
    expect(edge.cache.has("/prod/keys.json")).toBe(true);
    proxy.clear();
    proxy.denyAnonymous = true;
    const result = await publish(options({ keys: keyB }));
    expect(result.warnings).toEqual([]);
    expect(result.documents.map((d) => d.action)).toEqual(["update", "unchanged"]);
    expect(invalidations()).toHaveLength(1);
    expect(result.distribution?.invalidation).toMatchObject({ paths: ["/prod/keys.json"], completed: true });
    const sent = invalidations()[0]?.body ?? "";
    expect([...sent.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => m[1])).toEqual(["/prod/keys.json"]);
    // The read-back was answered from the bucket's new bytes, not the edge's old copy.
    const read = edge.served.filter((s) => s.path === "/prod/keys.json").at(-1);
    expect(read).toMatchObject({ status: 200, fromCache: false });
  });
});

describe("an invalidation that does not complete in time", () => {
  it("says until when the edge may serve the old bytes, and does not judge its stale copy", async () => {
    await publish(options());
    proxy.clear();
    proxy.denyAnonymous = true;
    // CloudFront still working on it, whenever asked.
    proxy.rewrite = (request, body) =>
      /\/invalidation(\/|$)/.test(request.path)
        ? body.replace(/<Status>[^<]*<\/Status>/, "<Status>InProgress</Status>")
        : undefined;
    edge.served.length = 0;
    try {
      const result = await publish(
        options({ keys: keyB, cloudFront: { pollIntervalMs: 10, waitTimeoutMs: 200 } }),
      );
      expect(result.distribution?.invalidation).toMatchObject({
        paths: ["/prod/keys.json"],
        completed: false,
      });
      expect(result.warnings).toHaveLength(1);
      expect(result.warnings[0]).toMatch(
        /^invalidation \w+ of \/prod\/keys\.json has not completed within .*edges that cached the old bytes may serve them until it completes, and at the latest until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/,
      );
      // No read-back of what an edge may still hold: it proves nothing either way.
      expect(edge.served).toEqual([]);
      // The provider is registered all the same: the documents in the bucket are right.
      expect(result.oidcProvider).toBeDefined();
    } finally {
      proxy.rewrite = undefined;
    }
  });
});

describe("two publishes at once", () => {
  it("both racing to create the distribution end with one, and both succeed", async () => {
    // Hold each CreateDistribution until both runs have listed, found none and sent theirs; then
    // let the first through, and the second only once the first has its answer.
    const held: Array<{ release: () => void; answered: Promise<void> }> = [];
    let bothHeld: () => void = () => {};
    const both = new Promise<void>((resolve) => {
      bothHeld = resolve;
    });
    proxy.hold = async (request) => {
      if (request.method !== "POST" || request.path.split("?")[0] !== "/2020-05-31/distribution")
        return undefined;
      let release: () => void = () => {};
      let answer: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const answered = new Promise<void>((resolve) => {
        answer = resolve;
      });
      held.push({ release, answered });
      if (held.length === 2) bothHeld();
      await gate;
      return answer;
    };
    try {
      const runs = Promise.all([publish(options()), publish(options())]);
      await both;
      held[0]?.release();
      await held[0]?.answered;
      held[1]?.release();
      const [first, second] = await runs;
      expect(second.distribution?.id).toBe(first.distribution?.id);
      expect([first.distribution?.action, second.distribution?.action].sort()).toEqual([
        "create",
        "unchanged",
      ]);
      expect(second.issuer).toBe(first.issuer);
      expect((await cloudFront.send(new ListDistributionsCommand({}))).DistributionList?.Items).toHaveLength(
        1,
      );
      const policy = JSON.parse(
        (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? "{}",
      );
      expect(policy.Statement).toHaveLength(1);
    } finally {
      proxy.hold = undefined;
    }
  });
});

describe("a dry run", () => {
  it("plans the distribution and creates nothing", async () => {
    const result = await publish(options({ dryRun: true }));
    expect(result.distribution).toMatchObject({ id: "", action: "create", status: "not created (dry run)" });
    expect(result.documents.map((d) => [d.action, d.written])).toEqual([
      ["create", false],
      ["create", false],
    ]);
    expect(changes()).toEqual([]);
    expect((await cloudFront.send(new ListDistributionsCommand({}))).DistributionList?.Items ?? []).toEqual(
      [],
    );
  });
});

describe("a custom issuer domain", () => {
  const importCertificate = async (hosts: string[]) => {
    const issued = issueServerCertificate(ca, { hosts });
    const answer = await acm.send(
      new ImportCertificateCommand({
        Certificate: Buffer.from(issued.certPem),
        PrivateKey: Buffer.from(issued.keyPem),
        CertificateChain: Buffer.from(ca.certPem),
      }),
    );
    return answer.CertificateArn ?? "";
  };

  it("serves https://DOMAIN/PREFIX with an issued us-east-1 certificate that covers it", async () => {
    const certificateArn = await importCertificate(["example.com", "*.example.com"]);
    const result = await publish(
      options({ cloudFront: { domain: "oidc.example.com", certificateArn, pollIntervalMs: 10 } }),
    );
    expect(result.issuer).toBe("https://oidc.example.com/prod");
    expect(result.distribution).toMatchObject({ alias: "oidc.example.com", action: "create" });
    const config = (await cloudFront.send(new GetDistributionConfigCommand({ Id: result.distribution?.id })))
      .DistributionConfig;
    expect(config?.Aliases?.Items).toEqual(["oidc.example.com"]);
    expect(config?.ViewerCertificate).toMatchObject({
      ACMCertificateArn: certificateArn,
      SSLSupportMethod: "sni-only",
    });
    const discovery = JSON.parse(
      (await (
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "prod/.well-known/openid-configuration" }))
      ).Body?.transformToString()) ?? "{}",
    );
    expect(discovery).toMatchObject({
      issuer: "https://oidc.example.com/prod",
      jwks_uri: "https://oidc.example.com/prod/keys.json",
    });
  });

  it("a re-run asked the same domain reads only the state and the provider; asked another, it takes the full path, which refuses as before", async () => {
    const certificateArn = await importCertificate(["oidc.example.com"]);
    const custom = { domain: "oidc.example.com", certificateArn, pollIntervalMs: 10 };
    await publish(options({ cloudFront: custom }));
    proxy.clear();
    proxy.denyAnonymous = true;
    const rerun = await publish(options({ cloudFront: custom }));
    expect(rerun).toMatchObject({ issuer: "https://oidc.example.com/prod", changed: false });
    // Not even the certificate: the edge serving the documents at the domain is the proof.
    expect(sent()).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
    proxy.clear();
    const other = publish(options());
    await expect(other).rejects.toMatchObject({ code: "ERR_CLOUDFRONT_INVALID" });
    await expect(other).rejects.toThrow(/serves oidc\.example\.com, not its own name alone; give --domain/);
    expect(sent()).toEqual([`GET /${bucket}/${stateKey}`, "ListDistributions"]);
    expect(changes()).toEqual([]);
  });

  it("refuses a certificate that does not cover the domain, before anything is created", async () => {
    const certificateArn = await importCertificate(["other.example.org"]);
    proxy.clear();
    const failure = publish(options({ cloudFront: { domain: "oidc.example.com", certificateArn } }));
    await expect(failure).rejects.toMatchObject({ code: "ERR_CERTIFICATE_UNUSABLE" });
    await expect(failure).rejects.toThrow(/is for other\.example\.org, not oidc\.example\.com/);
    expect(changes()).toEqual([]);
  });
});

describe("examples/iam/publisher-policy.json", () => {
  it("grants every CloudFront and ACM action a publish makes, and no other", async () => {
    const example = JSON.parse(
      await readFile(new URL("../examples/iam/publisher-policy.json", import.meta.url), "utf8"),
    ) as { Statement: Array<{ Action: string | string[] }> };
    const granted = new Set(example.Statement.flatMap((statement) => [statement.Action].flat()));
    const issued = issueServerCertificate(ca, { hosts: ["oidc.example.com"] });
    const certificateArn =
      (
        await acm.send(
          new ImportCertificateCommand({
            Certificate: Buffer.from(issued.certPem),
            PrivateKey: Buffer.from(issued.keyPem),
          }),
        )
      ).CertificateArn ?? "";
    const custom = { domain: "oidc.example.com", certificateArn, pollIntervalMs: 10 };
    proxy.clear();
    proxy.denyAnonymous = true;
    // A first publish (created, waited for), a key change (invalidated) and a re-run.
    await publish(options({ cloudFront: custom }));
    await publish(options({ cloudFront: custom, keys: keyB }));
    await publish(options({ cloudFront: custom, keys: keyB }));
    const used = new Set(cloudFrontAndAcmActions(proxy.requests));
    expect([...used].filter((action) => !granted.has(action))).toEqual([]);
    expect([...granted].filter((action) => /^(cloudfront|acm):/.test(action) && !used.has(action))).toEqual(
      [],
    );
  });
});

describe("refusals before anything is created", () => {
  it("a certificate outside us-east-1: ERR_CERTIFICATE_UNUSABLE, no request at all", async () => {
    const failure = publish(
      options({
        cloudFront: {
          domain: "oidc.example.com",
          certificateArn:
            "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-000011112222",
        },
      }),
    );
    await expect(failure).rejects.toBeInstanceOf(PublishError);
    await expect(failure).rejects.toMatchObject({ code: "ERR_CERTIFICATE_UNUSABLE", isInputError: true });
    await expect(failure).rejects.toThrow(
      /is in eu-west-1, and CloudFront uses certificates from us-east-1 only/,
    );
    expect(changes()).toEqual([]);
  });
});

describe("the command line", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "irsa-cloudfront-"));
    await writeFile(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));
  });
  afterAll(async () => {
    await moto?.setTransition("cloudfront::distribution", undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const where = ["--bucket", bucket, "--prefix", "prod", "--region", region, "--cloudfront"];
  const cli = (...args: string[]) =>
    runCli(args, { env: { ...awsTestEnv(proxy.url), HOME: dir }, isolated: true, cwd: dir });
  const publishCli = (...extra: string[]) => cli("publish", "--key", "sa.pub", ...where, ...extra);
  const objectKeys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key).sort();
  const providers = async () =>
    (await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];

  it("a custom domain with a certificate in another region: one line, exit 2, nothing created", async () => {
    const result = await publishCli(
      "--domain",
      "oidc.example.com",
      "--certificate-arn",
      "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-000011112222",
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/is in eu-west-1, and CloudFront uses certificates from us-east-1 only/);
    expect(changes()).toEqual([]);
    expect((await cloudFront.send(new ListDistributionsCommand({}))).DistributionList?.Items ?? []).toEqual(
      [],
    );
  });

  it("a distribution not deployed within --timeout: exit 1 naming what exists; a re-run continues with it", async () => {
    await moto.setTransition("cloudfront::distribution", { progression: "manual", times: 1_000_000 });
    const held = await publishCli("--timeout", "4s");
    expect(held.code).toBe(1);
    const lines = held.stderr.trimEnd().split("\n");
    expect(lines.slice(0, -1).every((line) => line.startsWith("waiting for CloudFront distribution"))).toBe(
      true,
    );
    const [distribution] =
      (await cloudFront.send(new ListDistributionsCommand({}))).DistributionList?.Items ?? [];
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `distribution ${distribution?.Id} \\(${distribution?.DomainName}\\) for s3://${bucket}/prod exists, with its bucket policy statement, but is still InProgress .*run the same command again`,
      ),
    );
    expect(await objectKeys()).toEqual([]);
    expect(await providers()).toEqual([]);

    await moto.setTransition("cloudfront::distribution", undefined);
    const rerun = await publishCli();
    expect(rerun.code).toBe(0);
    // The issuer's host is moto's invention and resolves nowhere: the read-back can only warn.
    expect(rerun.stderr).toMatch(
      /^warning: could not read https:\/\/\w+\.cloudfront\.net\/prod\/keys\.json from here/,
    );
    expect(rerun.stdout).toMatch(new RegExp(`unchanged +CloudFront distribution ${distribution?.Id}`));
    expect((await cloudFront.send(new ListDistributionsCommand({}))).DistributionList?.Items).toHaveLength(1);
    expect(await objectKeys()).toEqual([
      "prod/.irsa-anywhere-state.json",
      "prod/.well-known/openid-configuration",
      "prod/keys.json",
    ]);
    expect((await providers()).map((p) => p.Arn)).toEqual([
      `arn:aws:iam::123456789012:oidc-provider/${distribution?.DomainName}/prod`,
    ]);
  });

  it("rotate takes the same options: rotate prepare through CloudFront invalidates keys.json once", async () => {
    expect((await publishCli()).code).toBe(0);
    await writeFile(
      join(dir, "next.pub"),
      pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"),
    );
    proxy.clear();
    const result = await cli("rotate", "prepare", "--key", "sa.pub", "--next-key", "next.pub", ...where);
    expect(result.code).toBe(0);
    expect(invalidations()).toHaveLength(1);
    expect((await cloudFront.send(new ListDistributionsCommand({}))).DistributionList?.Items).toHaveLength(1);
  });

  it("--no-wait publishes the documents and says what is left", async () => {
    await moto.setTransition("cloudfront::distribution", { progression: "manual", times: 1_000_000 });
    const result = await publishCli("--no-wait");
    await moto.setTransition("cloudfront::distribution", undefined);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^warning: CloudFront distribution \w+ \(\w+\.cloudfront\.net\) is still InProgress: the documents are in the bucket, but the IAM OIDC provider is not registered/,
    );
    expect(await objectKeys()).toHaveLength(3);
    expect(await providers()).toEqual([]);
  });
});

describe("doctor with a CloudFront issuer", () => {
  /** A distribution published through, answering at the local edge under the name `localhost`. */
  async function servedThroughCloudFront() {
    const { distribution } = await publish(options());
    // The edge answers here for the distribution: give it that name, as --domain would.
    const issuer = `https://localhost:${new URL(edge.server.url).port}/prod`;
    const { DistributionConfig: config, ETag } = await cloudFront.send(
      new GetDistributionConfigCommand({ Id: distribution?.id }),
    );
    await cloudFront.send(
      new UpdateDistributionCommand({
        Id: distribution?.id,
        IfMatch: ETag,
        DistributionConfig: {
          ...config,
          Aliases: { Quantity: 1, Items: ["localhost"] },
        } as DistributionConfig,
      }),
    );
    // Republished for the new name; the edge's copies of the old documents go, as an invalidation would.
    edge.cache.clear();
    await publish(options({ issuer, externalIssuer: true, cloudFront: undefined }));
    const diagnoseHere = () =>
      diagnose({ issuer, keys: keyA, ca: ca.certPem, clients: { iam, cloudFront, s3 } });
    return { distribution, diagnoseHere };
  }

  it("passes for a deployed distribution that reads the bucket through its OAC, and fails on a stale edge", async () => {
    const { distribution, diagnoseHere } = await servedThroughCloudFront();

    const healthy = await diagnoseHere();
    expect(healthy.checks.find((c) => c.id === "cloudfront-distribution")).toMatchObject({
      status: "pass",
      details: { id: distribution?.id, bucket, status: "Deployed" },
    });

    // The bucket changes behind the edge's copy, and nothing invalidates it.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "prod/keys.json",
        Body: '{"keys":[]}',
        CacheControl: "public, max-age=300",
      }),
    );
    const stale = await diagnoseHere();
    const check = stale.checks.find((c) => c.id === "cloudfront-distribution");
    expect(check).toMatchObject({ status: "fail", code: "ERR_DISTRIBUTION_STALE" });
    expect(check?.fix).toContain(
      `aws cloudfront create-invalidation --distribution-id ${distribution?.id} --paths /prod/keys.json`,
    );
  });

  it.each([
    [
      "not deployed",
      /<Status>Deployed<\/Status>/g,
      "<Status>InProgress</Status>",
      "ERR_DISTRIBUTION_NOT_DEPLOYED",
    ],
    [
      "reading the bucket without an OAC",
      /<OriginAccessControlId>[^<]*<\/OriginAccessControlId>/g,
      "",
      "ERR_DISTRIBUTION_ORIGIN",
    ],
  ])("fails for a distribution %s", async (_name, pattern, replacement, code) => {
    const { diagnoseHere } = await servedThroughCloudFront();
    // What CloudFront would list for such a distribution.
    proxy.rewrite = (request, body) =>
      request.path.split("?")[0] === "/2020-05-31/distribution"
        ? body.replace(pattern, replacement)
        : undefined;
    try {
      const diagnosis = await diagnoseHere();
      expect(diagnosis.checks.find((c) => c.id === "cloudfront-distribution")).toMatchObject({
        status: "fail",
        code,
      });
    } finally {
      proxy.rewrite = undefined;
    }
  });

  it("skips an issuer that CloudFront does not serve", async () => {
    const issuer = await startHttpsIssuer({ ca });
    try {
      issuer.publish(keyA);
      const diagnosis = await diagnose({
        issuer: issuer.issuer,
        keys: keyA,
        ca: ca.certPem,
        clients: { iam, cloudFront, s3 },
      });
      expect(diagnosis.checks.find((c) => c.id === "cloudfront-distribution")).toMatchObject({
        status: "skip",
        code: "SKIP_NOT_CLOUDFRONT",
      });
      expect(proxy.requests.filter((r) => r.path.startsWith("/2020-05-31/"))).toEqual([]);
    } finally {
      await issuer.close();
    }
  });
});

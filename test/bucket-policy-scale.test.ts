// A thousand clusters publishing into one bucket with --public-read-policy, against moto: the
// bucket policy stays under S3's 20 KB limit, the documents of each cluster are public, and the
// publisher's private state is never readable without credentials, whatever the statement's form.

import { IAMClient } from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { type PublicSigningKey, publicKeysFromPem } from "@irsa-anywhere/keys";
import {
  BUCKET_POLICY_MAX_BYTES,
  type BucketPublishOptions,
  PublishError,
  planPublicReadPolicy,
  publish,
} from "@irsa-anywhere/publisher";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateTestKey, pem } from "./support/keys.js";
import { type MotoServer, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";

const region = "us-west-2";
const bucket = "oidc-shared-bucket";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
let moto: MotoServer;
let proxy: RecordingProxy;
let s3: S3Client;
let iam: IAMClient;

const keys: PublicSigningKey[] = publicKeysFromPem(
  pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"),
  "sa.pub",
);

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client({ region, endpoint: proxy.url, forcePathStyle: true, credentials });
  iam = new IAMClient({ region: "us-east-1", endpoint: proxy.url, credentials });
});
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  await s3.send(
    new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region } }),
  );
  proxy.clear();
});

function options(extra: Partial<BucketPublishOptions> = {}): BucketPublishOptions {
  return {
    keys,
    bucket,
    prefix: "clusters/c1000",
    region,
    endpointUrl: proxy.url,
    clients: { s3, iam },
    publicReadPolicy: true,
    ...extra,
  };
}

/** An unsigned GET, as STS (or anyone on the internet) makes it. */
async function anonymousStatus(key: string): Promise<number> {
  const response = await fetch(`${proxy.url}/${bucket}/${key}`);
  await response.body?.cancel();
  return response.status;
}

const documentKeys = (prefix: string) =>
  prefix === ""
    ? ["keys.json", ".well-known/openid-configuration"]
    : [`${prefix}/keys.json`, `${prefix}/.well-known/openid-configuration`];

/** The bucket policy after `count` clusters were published one after another with `auto`. */
function policyForClusters(count: number): string | undefined {
  let policy: string | undefined;
  for (let i = 0; i < count; i++) {
    policy = planPublicReadPolicy(policy, {
      partition: "aws",
      bucket,
      objectKeys: documentKeys(`clusters/c${i}`),
      scope: "auto",
    }).policy;
  }
  return policy;
}

describe("the public-read policy of a bucket many clusters share", () => {
  it("stays under S3's 20 KB with 1000 clusters, and S3 takes it", async () => {
    const policy = policyForClusters(1000) ?? "";
    expect(Buffer.byteLength(policy)).toBeLessThanOrEqual(BUCKET_POLICY_MAX_BYTES);
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    proxy.clear();

    // The 1001st cluster publishes for real: the policy already grants its documents.
    const result = await publish(options());
    expect(result.bucketPolicy).toMatchObject({ action: "unchanged", scope: "document-names" });
    expect(proxy.requests.filter((r) => r.method === "PUT" && r.path.includes("?policy")).length).toBe(0);
    const stored = (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
    expect(stored && JSON.parse(stored)).toEqual(JSON.parse(policy));
    for (const key of documentKeys("clusters/c1000")) expect(await anonymousStatus(key)).toBe(200);
    expect(await anonymousStatus("clusters/c1000/.irsa-anywhere-state.json")).toBe(403);
  });

  it("grants exactly while the policy is small, and says so when it widens to the document names", () => {
    const first = planPublicReadPolicy(undefined, {
      partition: "aws",
      bucket,
      objectKeys: documentKeys("clusters/c0"),
      scope: "auto",
    });
    expect(first).toMatchObject({ scope: "exact", changed: true });
    expect(first.widened).toBeUndefined();
    let policy: string | undefined;
    let widenedAt: number | undefined;
    for (let i = 0; widenedAt === undefined; i++) {
      const plan = planPublicReadPolicy(policy, {
        partition: "aws",
        bucket,
        objectKeys: documentKeys(`clusters/c${i}`),
        scope: "auto",
      });
      if (plan.scope === "document-names") {
        widenedAt = i;
        expect(plan.widened).toMatch(/every object named keys\.json or \.well-known\/openid-configuration/);
      }
      policy = plan.policy;
    }
    // Some 60 to 80 exact statements fit under the threshold (it depends on the names), far from 1000.
    expect(widenedAt).toBeGreaterThan(50);
    expect(widenedAt).toBeLessThan(100);
  });

  it("refuses, rather than send S3 a policy over its limit, when exact grants are asked for", () => {
    const full = policyForClusters(80);
    const plan = () =>
      planPublicReadPolicy(
        JSON.stringify({
          ...JSON.parse(full ?? "{}"),
          Statement: JSON.parse(full ?? "{}").Statement.concat(
            Array.from({ length: 30 }, (_, i) => ({
              Sid: `Theirs${i}`,
              Effect: "Deny",
              Principal: "*",
              Action: "s3:DeleteObject",
              Resource: `arn:aws:s3:::${bucket}/archive/${i}/*`,
            })),
          ),
        }),
        { partition: "aws", bucket, objectKeys: documentKeys("clusters/late"), scope: "exact" },
      );
    expect(plan).toThrow(PublishError);
    expect(plan).toThrow(/S3 takes at most 20480.*--public-read-scope document-names/);
  });

  for (const prefix of ["", "clusters/prod", "a/b/c"]) {
    it(`keeps the state private under document-names, with prefix ${JSON.stringify(prefix)}`, async () => {
      const result = await publish(options({ prefix, publicReadScope: "document-names" }));
      expect(result.bucketPolicy).toMatchObject({ written: true, scope: "document-names" });
      const at = prefix === "" ? "" : `${prefix}/`;
      for (const key of documentKeys(prefix)) expect(await anonymousStatus(key)).toBe(200);
      expect(await anonymousStatus(`${at}.irsa-anywhere-state.json`)).toBe(403);
      // What the statement does not name stays private, beside the documents and elsewhere.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${at}other.json`, Body: "{}" }));
      expect(await anonymousStatus(`${at}other.json`)).toBe(403);
    });
  }
});

// prepareIssuer, the library behind `init`, against moto through the recording proxy: the
// private (CloudFront) bucket mode, the seam where the distribution decides the issuer, and the
// answers of a bucket that someone else holds, which moto cannot give by itself.

import { readFile } from "node:fs/promises";
import { CreateBucketCommand, PutPublicAccessBlockCommand, S3Client } from "@aws-sdk/client-s3";
import { type DistributionRequest, prepareIssuer } from "@irsa-anywhere/publisher";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MotoServer, s3TestClientConfig, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";
import { blockPublicAccess, bucketNames } from "./support/s3-state.js";

let moto: MotoServer;
let proxy: RecordingProxy;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client(s3TestClientConfig(proxy.url));
});
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.clear();
});

const writes = () =>
  proxy.requests.filter((request) => request.method !== "GET" && request.method !== "HEAD");
/** A distribution finder/creator that answers as one that made `dabc123.cloudfront.net`. */
function distributionAt(domainName: string) {
  const asked: DistributionRequest[] = [];
  const find = async (request: DistributionRequest) => {
    asked.push(request);
    return { domainName, id: "EABC123", action: "create" as const, written: !request.dryRun };
  };
  return { asked, find };
}

describe("prepareIssuer with cloudfront", () => {
  it("makes a private bucket, all four Block Public Access settings on, and takes the distribution's domain", async () => {
    const distribution = distributionAt("dabc123.cloudfront.net");
    const prepared = await prepareIssuer({
      bucket: "private-oidc",
      prefix: "/prod/",
      region: "eu-west-1",
      clients: { s3 },
      cloudfront: { distribution: distribution.find },
    });
    expect(prepared).toMatchObject({
      issuer: "https://dabc123.cloudfront.net/prod",
      jwksUri: "https://dabc123.cloudfront.net/prod/keys.json",
      mode: "cloudfront",
      bucket: { action: "create", written: true },
    });
    expect(distribution.asked).toEqual([
      { bucket: "private-oidc", region: "eu-west-1", prefix: "prod", domain: undefined, dryRun: false },
    ]);
    expect(await blockPublicAccess(s3, "private-oidc")).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
  });

  it("takes a custom domain as the issuer's host, and never makes an existing bucket more private", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "shared-oidc" }));
    const open = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    };
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: "shared-oidc", PublicAccessBlockConfiguration: open }),
    );
    proxy.clear();
    const prepared = await prepareIssuer({
      bucket: "shared-oidc",
      region: "us-east-1",
      clients: { s3 },
      cloudfront: { domain: "oidc.example.com", distribution: distributionAt("dabc123.cloudfront.net").find },
    });
    expect(prepared.issuer).toBe("https://oidc.example.com");
    expect(prepared.bucket).toMatchObject({ action: "unchanged", blockPublicAccess: open });
    expect(writes()).toEqual([]);
  });

  it("in a dry run, shows a stand-in issuer for a distribution yet to be made, and makes nothing", async () => {
    const asked: DistributionRequest[] = [];
    const prepared = await prepareIssuer({
      bucket: "private-oidc",
      prefix: "prod",
      region: "us-east-1",
      clients: { s3 },
      dryRun: true,
      cloudfront: {
        distribution: async (request) => {
          asked.push(request);
          return { domainName: undefined, action: "create", written: false };
        },
      },
    });
    expect(prepared.issuer).toBe("https://new-distribution.cloudfront.net/prod");
    expect(asked.map((request) => request.dryRun)).toEqual([true]);
    expect(writes()).toEqual([]);
  });

  it("is refused before any request when no distribution finder is given", async () => {
    await expect(
      prepareIssuer({ bucket: "private-oidc", region: "us-east-1", clients: { s3 }, cloudfront: {} }),
    ).rejects.toMatchObject({ code: "ERR_CLOUDFRONT_UNAVAILABLE", fault: "environment" });
    expect(proxy.requests).toEqual([]);
  });
});

describe("prepareIssuer refuses a bucket it cannot have, and changes nothing", () => {
  it("a bucket S3 will not show this identity (403): another account's, or no permission", async () => {
    proxy.failNext(1, { status: 403, match: (request) => request.method === "HEAD" });
    await expect(
      prepareIssuer({ bucket: "taken-oidc", region: "us-east-1", clients: { s3 } }),
    ).rejects.toMatchObject({
      code: "ERR_BUCKET_TAKEN",
      message: expect.stringMatching(
        /^bucket taken-oidc exists but this identity cannot use it: another account owns the name/,
      ),
    });
    expect(writes()).toEqual([]);
  });

  it("a name another account took between the look and the create", async () => {
    proxy.failNext(1, {
      status: 409,
      body: "<Error><Code>BucketAlreadyExists</Code><Message>taken</Message></Error>",
      match: (request) => request.method === "PUT",
    });
    await expect(
      prepareIssuer({ bucket: "taken-oidc", region: "us-east-1", clients: { s3 } }),
    ).rejects.toMatchObject({
      code: "ERR_BUCKET_TAKEN",
      fault: "input",
    });
    expect(await bucketNames(s3)).toEqual([]);
  });

  it("a dry run reads only, and says what it would make", async () => {
    const prepared = await prepareIssuer({
      bucket: "dry-oidc",
      region: "ap-south-1",
      clients: { s3 },
      dryRun: true,
    });
    expect(prepared).toMatchObject({
      issuer: "https://dry-oidc.s3.ap-south-1.amazonaws.com",
      dryRun: true,
      bucket: { action: "create", written: false },
    });
    expect(writes()).toEqual([]);
    expect(await bucketNames(s3)).toEqual([]);
  });
});

describe("two prepareIssuer runs at once", () => {
  it("both succeed when the other run creates the bucket between this run's look and its create", async () => {
    // Run A's create is held until run B's create has been answered: A then meets a bucket
    // that did not exist when it looked.
    let createdByB: () => void = () => {};
    const bCreated = new Promise<void>((resolve) => {
      createdByB = resolve;
    });
    let creates = 0;
    proxy.hold = async (request) => {
      if (request.method !== "PUT" || request.path.includes("publicAccessBlock")) return undefined;
      creates++;
      if (creates === 1) {
        await bCreated;
        return undefined;
      }
      return () => createdByB();
    };
    try {
      const run = () => prepareIssuer({ bucket: "race-oidc", region: "us-west-2", clients: { s3 } });
      const [a, b] = await Promise.all([run(), run()]);
      expect(creates).toBe(2);
      expect([a.bucket.action, b.bucket.action].sort()).toEqual(["create", "unchanged"]);
      expect(a.issuer).toBe(b.issuer);
    } finally {
      proxy.hold = undefined;
    }
    expect(await bucketNames(s3)).toEqual(["race-oidc"]);
    expect(await blockPublicAccess(s3, "race-oidc")).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
  });
});

describe("examples/iam/init-policy.json", () => {
  /** The IAM action of each S3 request init makes (all on the bucket itself). */
  function actionOf(request: { method: string; path: string }): string {
    const query = request.path.split("?")[1] ?? "";
    if (query.startsWith("publicAccessBlock")) {
      return request.method === "PUT" ? "s3:PutBucketPublicAccessBlock" : "s3:GetBucketPublicAccessBlock";
    }
    if (request.method === "HEAD" && query === "") return "s3:ListBucket";
    if (request.method === "PUT" && query === "") return "s3:CreateBucket";
    return `unknown: ${request.method} ${request.path}`;
  }

  it("grants exactly the calls init makes, on the bucket alone", async () => {
    const example = JSON.parse(
      await readFile(new URL("../examples/iam/init-policy.json", import.meta.url), "utf8"),
    ) as { Statement: Array<{ Action: string | string[]; Resource: string | string[] }> };
    const granted = new Set(example.Statement.flatMap((statement) => [statement.Action].flat()));
    expect(example.Statement.flatMap((statement) => [statement.Resource].flat())).toEqual([
      "arn:aws:s3:::my-oidc-bucket",
    ]);
    // A first run, a second, and a run that must loosen an existing bucket.
    await prepareIssuer({ bucket: "my-oidc-bucket", prefix: "prod", region: "us-west-2", clients: { s3 } });
    await prepareIssuer({ bucket: "my-oidc-bucket", prefix: "prod", region: "us-west-2", clients: { s3 } });
    // Straight to moto, past the proxy: the test's own call is not one of init's.
    const direct = new S3Client(s3TestClientConfig(moto.endpoint));
    await direct.send(
      new PutPublicAccessBlockCommand({
        Bucket: "my-oidc-bucket",
        PublicAccessBlockConfiguration: { BlockPublicPolicy: true, RestrictPublicBuckets: true },
      }),
    );
    direct.destroy();
    await prepareIssuer({ bucket: "my-oidc-bucket", prefix: "prod", region: "us-west-2", clients: { s3 } });
    const used = new Set(proxy.requests.map(actionOf));
    expect([...used].sort()).toEqual([...granted].sort());
  });
});

// prepareIssuer, the library behind `init`, against moto through the recording proxy: the
// private (CloudFront) bucket mode, the seam where the distribution decides the issuer, and the
// answers of a bucket that someone else holds, which moto cannot give by itself.

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

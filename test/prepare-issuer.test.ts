// prepareIssuer, the library behind `init`, against moto through the recording proxy: the
// private bucket behind a CloudFront distribution made by the publisher's own CloudFront code
// (the one `publish --cloudfront` then finds), and the answers of a bucket that someone else
// holds, which moto cannot give by itself.

import { readFile } from "node:fs/promises";
import { ACMClient, ImportCertificateCommand } from "@aws-sdk/client-acm";
import {
  CloudFrontClient,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
} from "@aws-sdk/client-cloudfront";
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { prepareIssuer } from "@irsa-anywhere/publisher";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cloudFrontAndAcmActions } from "./support/aws-actions.js";
import { awsTestClientConfig, type MotoServer, s3TestClientConfig, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";
import { blockPublicAccess, bucketNames } from "./support/s3-state.js";
import { createCertificateAuthority, issueServerCertificate } from "./support/tls.js";

let moto: MotoServer;
let proxy: RecordingProxy;
let s3: S3Client;
let cloudFront: CloudFrontClient;
let acm: ACMClient;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client(s3TestClientConfig(proxy.url));
  cloudFront = new CloudFrontClient({ ...awsTestClientConfig(proxy.url), region: "us-east-1" });
  acm = new ACMClient({ ...awsTestClientConfig(proxy.url), region: "us-east-1" });
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
  proxy.requests.filter(
    (request) =>
      request.method !== "GET" &&
      request.method !== "HEAD" &&
      !/DescribeCertificate/.test(String(request.headers["x-amz-target"])),
  );
const distributions = async () =>
  (await cloudFront.send(new ListDistributionsCommand({}))).DistributionList?.Items ?? [];

/**
 * An ACM certificate in us-east-1 for `hosts`, issued (moto marks an imported one so); imported
 * straight into moto, past the proxy, since the test's own call is not one of init's.
 */
async function importCertificate(hosts: string[]): Promise<string> {
  const ca = createCertificateAuthority();
  const issued = issueServerCertificate(ca, { hosts });
  const direct = new ACMClient({ ...awsTestClientConfig(moto.endpoint), region: "us-east-1" });
  const answer = await direct.send(
    new ImportCertificateCommand({
      Certificate: Buffer.from(issued.certPem),
      PrivateKey: Buffer.from(issued.keyPem),
      CertificateChain: Buffer.from(ca.certPem),
    }),
  );
  direct.destroy();
  return answer.CertificateArn ?? "";
}

describe("prepareIssuer with cloudFront", () => {
  it("makes a private bucket and the distribution with its origin access control; the issuer is the distribution's domain", async () => {
    const prepared = await prepareIssuer({
      bucket: "private-oidc",
      prefix: "/prod/",
      region: "eu-west-1",
      clients: { s3, cloudFront, acm },
      cloudFront: {},
    });
    const [made, ...others] = await distributions();
    expect(others).toEqual([]);
    expect(made?.DomainName).toMatch(/\.cloudfront\.net$/);
    expect(prepared).toMatchObject({
      issuer: `https://${made?.DomainName}/prod`,
      jwksUri: `https://${made?.DomainName}/prod/keys.json`,
      mode: "cloudfront",
      bucket: { action: "create", written: true },
      distribution: { id: made?.Id, action: "create" },
      bucketPolicy: { action: "create", written: true },
      warnings: [],
    });
    const config = (await cloudFront.send(new GetDistributionConfigCommand({ Id: made?.Id })))
      .DistributionConfig;
    expect(config?.Comment).toBe("irsa-anywhere issuer s3://private-oidc/prod");
    expect(config?.Origins?.Items?.[0]).toMatchObject({
      DomainName: "private-oidc.s3.eu-west-1.amazonaws.com",
      OriginAccessControlId: expect.stringMatching(/.+/),
    });
    expect(await blockPublicAccess(s3, "private-oidc")).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    // Only the distribution may read, and only the two documents: nothing public.
    const policy = JSON.parse(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: "private-oidc" }))).Policy ?? "{}",
    );
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: "cloudfront.amazonaws.com" },
        Resource: [
          "arn:aws:s3:::private-oidc/prod/.well-known/openid-configuration",
          "arn:aws:s3:::private-oidc/prod/keys.json",
        ],
        Condition: { StringEquals: { "AWS:SourceArn": made?.ARN } },
      }),
    ]);
  });

  it("a second run finds the same distribution and makes reads only", async () => {
    const options = {
      bucket: "private-oidc",
      prefix: "prod",
      region: "us-west-2",
      clients: { s3, cloudFront, acm },
      cloudFront: {},
    };
    const first = await prepareIssuer(options);
    proxy.clear();
    const second = await prepareIssuer(options);
    expect(writes()).toEqual([]);
    expect(second.issuer).toBe(first.issuer);
    expect(second).toMatchObject({
      bucket: { action: "unchanged" },
      distribution: { id: first.distribution?.id, action: "unchanged" },
      bucketPolicy: { action: "unchanged", written: false },
    });
    expect(await distributions()).toHaveLength(1);
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
    const certificateArn = await importCertificate(["oidc.example.com"]);
    const prepared = await prepareIssuer({
      bucket: "shared-oidc",
      region: "us-east-1",
      clients: { s3, cloudFront, acm },
      cloudFront: { domain: "oidc.example.com", certificateArn },
    });
    expect(prepared.issuer).toBe("https://oidc.example.com");
    expect(prepared.bucket).toMatchObject({ action: "unchanged", blockPublicAccess: open });
    expect(prepared.distribution).toMatchObject({ alias: "oidc.example.com", action: "create" });
  });

  it("in a dry run, shows a stand-in issuer for a distribution yet to be made, and makes nothing", async () => {
    const prepared = await prepareIssuer({
      bucket: "private-oidc",
      prefix: "prod",
      region: "us-east-1",
      clients: { s3, cloudFront, acm },
      dryRun: true,
      cloudFront: {},
    });
    expect(prepared.issuer).toBe("https://new-distribution.cloudfront.net/prod");
    expect(prepared).toMatchObject({
      bucket: { action: "create", written: false },
      distribution: { id: "", action: "create" },
    });
    expect(writes()).toEqual([]);
    expect(await bucketNames(s3)).toEqual([]);
  });

  it.each([
    [
      "a URL for a domain",
      {
        domain: "https://oidc.example.com",
        certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      },
      "ERR_CLOUDFRONT_INVALID",
    ],
    ["a domain without its certificate", { domain: "oidc.example.com" }, "ERR_CLOUDFRONT_INVALID"],
    [
      "a certificate outside us-east-1",
      { domain: "oidc.example.com", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" },
      "ERR_CERTIFICATE_UNUSABLE",
    ],
  ])("%s is refused before any request", async (_name, cloudFrontOptions, code) => {
    await expect(
      prepareIssuer({
        bucket: "private-oidc",
        region: "us-east-1",
        clients: { s3, cloudFront, acm },
        cloudFront: cloudFrontOptions,
      }),
    ).rejects.toMatchObject({ code, fault: "input" });
    expect(proxy.requests).toEqual([]);
  });

  it("a certificate that does not cover the domain is refused before the bucket is made", async () => {
    const certificateArn = await importCertificate(["other.example.org"]);
    await expect(
      prepareIssuer({
        bucket: "private-oidc",
        region: "us-east-1",
        clients: { s3, cloudFront, acm },
        cloudFront: { domain: "oidc.example.com", certificateArn },
      }),
    ).rejects.toMatchObject({ code: "ERR_CERTIFICATE_UNUSABLE" });
    expect(writes()).toEqual([]);
    expect(await bucketNames(s3)).toEqual([]);
    expect(await distributions()).toEqual([]);
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
  function s3ActionOf(request: { method: string; path: string }): string {
    const query = request.path.split("?")[1] ?? "";
    if (query.startsWith("publicAccessBlock")) {
      return request.method === "PUT" ? "s3:PutBucketPublicAccessBlock" : "s3:GetBucketPublicAccessBlock";
    }
    if (query.startsWith("policy")) {
      return request.method === "PUT" ? "s3:PutBucketPolicy" : "s3:GetBucketPolicy";
    }
    if (request.method === "HEAD" && query === "") return "s3:ListBucket";
    if (request.method === "PUT" && query === "") return "s3:CreateBucket";
    return `unknown: ${request.method} ${request.path}`;
  }

  it("grants exactly the calls init makes, S3's on the bucket alone", async () => {
    const example = JSON.parse(
      await readFile(new URL("../examples/iam/init-policy.json", import.meta.url), "utf8"),
    ) as { Statement: Array<{ Action: string | string[]; Resource: string | string[] }> };
    const granted = new Set(example.Statement.flatMap((statement) => [statement.Action].flat()));
    expect(
      example.Statement.filter((statement) =>
        [statement.Action].flat().some((a) => a.startsWith("s3:")),
      ).flatMap((statement) => [statement.Resource].flat()),
    ).toEqual(["arn:aws:s3:::my-oidc-bucket", "arn:aws:s3:::my-oidc-bucket"]);
    // A first run, a second, and a run that must loosen an existing bucket.
    await prepareIssuer({ bucket: "my-oidc-bucket", prefix: "prod", region: "us-west-2", clients: { s3 } });
    await prepareIssuer({ bucket: "my-oidc-bucket", prefix: "prod", region: "us-west-2", clients: { s3 } });
    // Straight to moto, past the proxy: the test's own calls are not init's.
    const direct = new S3Client(s3TestClientConfig(moto.endpoint));
    await direct.send(
      new PutPublicAccessBlockCommand({
        Bucket: "my-oidc-bucket",
        PublicAccessBlockConfiguration: { BlockPublicPolicy: true, RestrictPublicBuckets: true },
      }),
    );
    direct.destroy();
    await prepareIssuer({ bucket: "my-oidc-bucket", prefix: "prod", region: "us-west-2", clients: { s3 } });
    // --cloudfront with a custom domain, twice, beside the S3 route.
    const certificateArn = await importCertificate(["oidc.example.com"]);
    const behindCloudFront = {
      bucket: "my-oidc-bucket",
      prefix: "staging",
      region: "us-west-2",
      clients: { s3, cloudFront, acm },
      cloudFront: { domain: "oidc.example.com", certificateArn },
    };
    await prepareIssuer(behindCloudFront);
    await prepareIssuer(behindCloudFront);
    const requests = proxy.requests;
    const isS3 = (request: (typeof requests)[number]) =>
      !request.path.startsWith("/2020-05-31/") && request.headers["x-amz-target"] === undefined;
    const used = new Set([
      ...requests.filter(isS3).map(s3ActionOf),
      ...cloudFrontAndAcmActions(requests.filter((request) => !isS3(request))),
    ]);
    expect([...used].sort()).toEqual([...granted].sort());
  });
});

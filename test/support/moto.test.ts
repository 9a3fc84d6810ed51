// Proves the moto harness with the real AWS SDK: state that persists, conditional writes that
// conflict, IAM that answers, a reset that empties the account, and a proxy that sees it all.
import { createHash, randomBytes } from "node:crypto";
import {
  CreateOpenIDConnectProviderCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
} from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsTestClientConfig, type MotoServer, s3TestClientConfig, startMoto } from "./moto.js";
import { type RecordingProxy, startRecordingProxy } from "./recording-proxy.js";

let moto: MotoServer;
let proxy: RecordingProxy;
let s3: S3Client;
let iam: IAMClient;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client(s3TestClientConfig(proxy.url));
  iam = new IAMClient(awsTestClientConfig(proxy.url));
});
beforeEach(async () => {
  await moto.reset();
  proxy.clear();
});
afterEach(() => proxy.clear());
afterAll(async () => {
  s3?.destroy();
  iam?.destroy();
  await proxy?.close();
  await moto?.stop();
});

const thumbprint = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const issuer = "https://oidc.example.com/clusters/test";
const put = (key: string, body: string, extra: { IfNoneMatch?: string; IfMatch?: string } = {}) =>
  s3.send(new PutObjectCommand({ Bucket: "issuer-bucket", Key: key, Body: body, ...extra }));
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: "(fulfilled)", status: 0 }),
    (error: { name: string; $metadata?: { httpStatusCode?: number } }) => ({
      name: error.name,
      status: error.$metadata?.httpStatusCode ?? 0,
    }),
  );

describe("moto through the recording proxy", () => {
  it("keeps S3 objects and refuses a second If-None-Match: * write with 412", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    const first = await put("keys.json", "one", { IfNoneMatch: "*" });
    expect(first.ETag).toMatch(/^"[0-9a-f]{32}"$/);

    expect(await rejection(put("keys.json", "two", { IfNoneMatch: "*" }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    const read = await s3.send(new GetObjectCommand({ Bucket: "issuer-bucket", Key: "keys.json" }));
    expect(await read.Body?.transformToString()).toBe("one");

    expect(proxy.requests.map((r) => [r.method, r.path.split("?")[0], r.status])).toEqual([
      ["PUT", "/issuer-bucket/", 200],
      ["PUT", "/issuer-bucket/keys.json", 200],
      ["PUT", "/issuer-bucket/keys.json", 412],
      ["GET", "/issuer-bucket/keys.json", 200],
    ]);
    const conditional = proxy.requests[1];
    expect(conditional?.headers["if-none-match"]).toBe("*");
    expect(conditional?.host).toBe(new URL(proxy.url).host);
    expect(conditional?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=testing\//);
  });

  it("passes bodies through byte for byte", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    const bytes = randomBytes(64 * 1024);
    const written = await s3.send(
      new PutObjectCommand({ Bucket: "issuer-bucket", Key: "random.bin", Body: bytes }),
    );
    expect(written.ETag).toBe(`"${createHash("md5").update(bytes).digest("hex")}"`);
    const read = await s3.send(new GetObjectCommand({ Bucket: "issuer-bucket", Key: "random.bin" }));
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? [])).toEqual(bytes);
  });

  it("writes with If-Match only while the ETag is current", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    const first = await put("openid-configuration", "one");
    const second = await put("openid-configuration", "two", { IfMatch: first.ETag ?? "" });
    expect(second.ETag).not.toBe(first.ETag);
    expect(await rejection(put("openid-configuration", "three", { IfMatch: first.ETag ?? "" }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    // Like S3, If-Match on a key that does not exist is a 404, not a 412.
    expect(await rejection(put("missing", "x", { IfMatch: first.ETag ?? "" }))).toEqual({
      name: "NoSuchKey",
      status: 404,
    });
  });

  it("creates and lists IAM OIDC providers", async () => {
    const created = await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: issuer,
        ClientIDList: ["sts.amazonaws.com"],
        ThumbprintList: [thumbprint],
      }),
    );
    expect(created.OpenIDConnectProviderArn).toBe(
      "arn:aws:iam::123456789012:oidc-provider/oidc.example.com/clusters/test",
    );
    const listed = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(listed.OpenIDConnectProviderList?.map((p) => p.Arn)).toEqual([created.OpenIDConnectProviderArn]);

    expect(proxy.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["POST", "/", 200],
      ["POST", "/", 200],
    ]);
    expect(proxy.requests.map((r) => new URLSearchParams(r.body).get("Action"))).toEqual([
      "CreateOpenIDConnectProvider",
      "ListOpenIDConnectProviders",
    ]);
    expect(proxy.requests[0]?.headers.authorization).toMatch(/\/us-east-1\/iam\/aws4_request/);
  });

  it("starts each test from an empty account after reset()", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ThumbprintList: [thumbprint] }));

    await moto.reset();
    expect((await s3.send(new ListBucketsCommand({}))).Buckets).toEqual([]);
    expect((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList).toEqual([]);
  });

  it("lists the requests moto answered, without its own API calls", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    await rejection(s3.send(new GetObjectCommand({ Bucket: "issuer-bucket", Key: "absent" })));
    expect(await moto.requests()).toEqual([
      { method: "PUT", path: "/issuer-bucket/", status: 200 },
      { method: "GET", path: "/issuer-bucket/absent?x-id=GetObject", status: 404 },
    ]);
    await moto.reset();
    expect(await moto.requests()).toEqual([]);
  });
});

describe("the recording proxy's faults", () => {
  it("answers the next matching request with an injected error, which the SDK retries", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    proxy.clear();
    proxy.failNext(1, { status: 503, match: (r) => r.method === "PUT" });
    await put("keys.json", "one");
    expect(proxy.requests.map((r) => [r.method, r.status, r.fault])).toEqual([
      ["PUT", 503, "fail"],
      ["PUT", 200, undefined],
    ]);
  });

  it("gives up with the injected status once the retries are spent", async () => {
    proxy.failNext(3, { status: 500 });
    expect(await rejection(iam.send(new ListOpenIDConnectProvidersCommand({})))).toEqual({
      name: "InternalError",
      status: 500,
    });
    expect(proxy.requests).toHaveLength(3);
  });

  it("cuts the connection before forwarding: the write never happens", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    const client = new S3Client({ ...s3TestClientConfig(proxy.url), maxAttempts: 1 });
    try {
      proxy.resetNext(1);
      await expect(
        client.send(new PutObjectCommand({ Bucket: "issuer-bucket", Key: "k", Body: "x" })),
      ).rejects.toThrow();
    } finally {
      client.destroy();
    }
    expect(proxy.requests.at(-1)).toMatchObject({ method: "PUT", status: undefined, fault: "reset" });
    expect(await rejection(s3.send(new GetObjectCommand({ Bucket: "issuer-bucket", Key: "k" })))).toEqual({
      name: "NoSuchKey",
      status: 404,
    });
  });

  it("cuts the connection after forwarding: the write happened, and the retry hits 412", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    proxy.resetNext(1, { afterForwarding: true });
    expect(await rejection(put("keys.json", "one", { IfNoneMatch: "*" }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    expect(proxy.requests.slice(-2).map((r) => [r.method, r.status, r.fault])).toEqual([
      ["PUT", undefined, "reset"],
      ["PUT", 412, undefined],
    ]);
  });

  it("answers unsigned requests 403 while denyAnonymous is set, though the bucket policy allows them", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    await put("keys.json", "{}");
    const anonymousRead = () => fetch(`${proxy.url}/issuer-bucket/keys.json`).then((r) => r.status);
    // moto itself denies an anonymous read of a private object, and allows it under a public-read policy.
    expect(await anonymousRead()).toBe(403);
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: "issuer-bucket",
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: "*",
              Action: "s3:GetObject",
              Resource: "arn:aws:s3:::issuer-bucket/*",
            },
          ],
        }),
      }),
    );
    expect(await anonymousRead()).toBe(200);

    proxy.denyAnonymous = true;
    expect(await anonymousRead()).toBe(403);
    const signed = await s3.send(new GetObjectCommand({ Bucket: "issuer-bucket", Key: "keys.json" }));
    expect(await signed.Body?.transformToString()).toBe("{}");
    expect(proxy.requests.slice(-2).map((r) => [r.status, r.fault])).toEqual([
      [403, "deny"],
      [200, undefined],
    ]);
  });

  it("holds each request for delayMs", async () => {
    proxy.delayMs = 300;
    const started = performance.now();
    await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("startMoto", () => {
  it("fails with moto's output when Python cannot run it", async () => {
    await expect(startMoto({ python: "python3-that-does-not-exist" })).rejects.toThrow(
      /moto \(python3-that-does-not-exist .*could not be started/,
    );
  });

  it("stops moto and its process for good", async () => {
    const another = await startMoto();
    await another.stop();
    await another.stop();
    await expect(fetch(`${another.endpoint}/moto-api/`)).rejects.toThrow();
  });
});

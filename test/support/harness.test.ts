// The test harness's own logic, with the real AWS SDK against moto: what the recording proxy
// records and the faults it injects, and what startMoto adds to moto (its access log, its start
// and stop). moto's own behaviour (conditional writes, IAM) is moto's to test, not ours.
import { createHash, randomBytes } from "node:crypto";
import { IAMClient, ListOpenIDConnectProvidersCommand } from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  GetObjectCommand,
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

describe("the recording proxy", () => {
  it("records each request as sent: method, path, Host, headers, body and the answer's status", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "issuer-bucket" }));
    await put("keys.json", "one", { IfNoneMatch: "*" });
    await iam.send(new ListOpenIDConnectProvidersCommand({}));

    expect(proxy.requests.map((r) => [r.method, r.path.split("?")[0], r.status])).toEqual([
      ["PUT", "/issuer-bucket/", 200],
      ["PUT", "/issuer-bucket/keys.json", 200],
      ["POST", "/", 200],
    ]);
    const [, conditional, listing] = proxy.requests;
    expect(conditional?.headers["if-none-match"]).toBe("*");
    expect(conditional?.host).toBe(new URL(proxy.url).host);
    expect(conditional?.signed).toBe(true);
    expect(conditional?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=testing\//);
    expect(new URLSearchParams(listing?.body).get("Action")).toBe("ListOpenIDConnectProviders");
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

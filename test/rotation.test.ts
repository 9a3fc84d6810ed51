// A full key rotation from A to B against moto, with a clock the test moves: at every step a
// token signed by A and one signed by B must verify, or not, against the published JWKS.

import { IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { type PublicSigningKey, publicKeysFromPem } from "@irsa-anywhere/keys";
import {
  type BucketPublishOptions,
  confirmRotation,
  DEFAULT_RETAIN_MS,
  prepareRotation,
  pruneRotation,
  publish,
  rotationStatus,
  withdrawRotation,
} from "@irsa-anywhere/publisher";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateTestKey, pem, type TestKeyPair } from "./support/keys.js";
import { awsTestClientConfig, type MotoServer, s3TestClientConfig, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";

const bucket = "rotation-bucket";
const HOUR = 3_600_000;
let moto: MotoServer;
let proxy: RecordingProxy;
let s3: S3Client;
let iam: IAMClient;
let sts: STSClient;
let now: Date;

const a = generateTestKey({ type: "rsa", bits: 2048 });
const b = generateTestKey({ type: "ec", curve: "P-256" });
const signingWith = (pair: TestKeyPair) => publicKeysFromPem(pem(pair.privateKey, "pkcs8"), "tls.key");
const verifying = (pair: TestKeyPair) => publicKeysFromPem(pem(pair.publicKey, "spki"), "tls.crt");
const kidOf = (pair: TestKeyPair) => verifying(pair)[0]?.kid as string;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client(s3TestClientConfig(proxy.url));
  iam = new IAMClient(awsTestClientConfig(proxy.url));
  sts = new STSClient(awsTestClientConfig(proxy.url));
});
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  proxy.clear();
  now = new Date("2026-11-23T00:00:00Z");
});

function options(
  cluster: PublicSigningKey[],
  extra: Partial<BucketPublishOptions> = {},
): BucketPublishOptions {
  return {
    keys: cluster,
    bucket,
    prefix: "prod",
    region: "us-east-1",
    endpointUrl: proxy.url,
    publicReadPolicy: true,
    clients: { s3, iam, sts },
    now: () => now,
    ...extra,
  };
}

async function object(key: string): Promise<string> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await answer.Body?.transformToString()) ?? "";
}

/** Whether STS would accept a token just signed by this key, judged on the published JWKS. */
async function accepts(pair: TestKeyPair): Promise<boolean> {
  const jwks = createLocalJWKSet(JSON.parse(await object("prod/keys.json")));
  const issuer = JSON.parse(await object("prod/.well-known/openid-configuration")).issuer;
  const token = await new SignJWT({
    "kubernetes.io": { namespace: "default", serviceaccount: { name: "app" } },
  })
    .setProtectedHeader({ alg: pair.alg, kid: kidOf(pair) })
    .setIssuer(issuer)
    .setSubject("system:serviceaccount:default:app")
    .setAudience("sts.amazonaws.com")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(pair.privateKey);
  try {
    await jwtVerify(token, jwks, { issuer, audience: "sts.amazonaws.com" });
    return true;
  } catch {
    return false;
  }
}

describe("rotating the signing key from A to B", () => {
  it("never leaves a live token without its key, and removes A only after the retention", async () => {
    await publish(options(signingWith(a)));
    expect([await accepts(a), await accepts(b)]).toEqual([true, false]);

    // Phase 2 before phase 1 is refused: B was never published.
    const early = confirmRotation(options([...signingWith(b), ...verifying(a)]));
    await expect(early).rejects.toMatchObject({ code: "ERR_ROTATION_PRECONDITION" });

    // Phase 1: B is published ahead, A still signs.
    const prepared = await prepareRotation({ ...options(signingWith(a)), nextKeys: verifying(b) });
    expect(prepared.stage).toBe("prepared");
    expect([await accepts(a), await accepts(b)]).toEqual([true, true]);
    expect((await rotationStatus(options(signingWith(a)))).stage).toBe("prepared");

    // The scheduled job keeps publishing from the cluster meanwhile: B stays.
    now = new Date(now.getTime() + 30 * HOUR);
    await publish(options(signingWith(a)));
    expect(await accepts(b)).toBe(true);

    // Phase 2 refuses while the API server still signs with A.
    await expect(confirmRotation(options([...signingWith(a), ...verifying(b)]))).rejects.toThrow(
      /still signs with/,
    );

    // The switch: the API server signs with B and still verifies A.
    const confirmed = await confirmRotation(options([...signingWith(b), ...verifying(a)]));
    expect(confirmed.summary).toMatch(/switch is confirmed/);
    expect([await accepts(a), await accepts(b)]).toEqual([true, true]);
    const jwks = JSON.parse(await object("prod/keys.json"));
    expect(jwks.keys.at(-1)).toMatchObject({ kid: "", kty: "EC" }); // the twin follows the signing key

    // A leaves the cluster. No publish runs in between (the job may be paused): the first prune
    // notices, and the retention starts then; phase 3 refuses until it has passed.
    // Waiting for the retention is not a failure: a scheduled prune says when, and succeeds.
    const retireStarts = now;
    const first = await pruneRotation(options(signingWith(b)));
    expect(first).toMatchObject({ outcome: "nothing-yet", summary: expect.stringMatching(/may go at/) });
    now = new Date(now.getTime() + 24 * HOUR);
    const waiting = await pruneRotation(options(signingWith(b)));
    expect(waiting.outcome).toBe("nothing-yet");
    expect(waiting.removableAt).toBe(new Date(retireStarts.getTime() + DEFAULT_RETAIN_MS).toISOString());
    expect(await accepts(a)).toBe(true);

    now = new Date(now.getTime() + DEFAULT_RETAIN_MS - 24 * HOUR + 1);
    const pruned = await pruneRotation(options(signingWith(b)));
    expect(pruned.publish.keys.pruned).toEqual([kidOf(a)]);
    expect(pruned.outcome).toBe("pruned");
    expect([await accepts(a), await accepts(b)]).toEqual([false, true]);

    // Every phase is safe to re-run.
    expect(await pruneRotation(options(signingWith(b)))).toMatchObject({
      outcome: "nothing-to-remove",
      summary: expect.stringMatching(/nothing to remove/),
    });
    expect((await rotationStatus(options(signingWith(b)))).stage).toBe("steady");
  });

  it("gives up a prepared rotation: the abandoned key retires, and only then may another be prepared", async () => {
    const c = generateTestKey({ type: "ec", curve: "P-384" });
    await publish(options(signingWith(a)));
    await prepareRotation({ ...options(signingWith(a)), nextKeys: verifying(b) });
    // B is lost, say: a different next key is refused while B's rotation is open.
    await expect(prepareRotation({ ...options(signingWith(a)), nextKeys: verifying(c) })).rejects.toThrow(
      /already prepared.*rotate withdraw/,
    );

    const withdrawn = await withdrawRotation(options(signingWith(a)));
    expect(withdrawn.summary).toMatch(/withdrew the rotation/);
    // B stays published for the retention, in case the API server signed with it meanwhile.
    expect([await accepts(a), await accepts(b)]).toEqual([true, true]);
    await expect(withdrawRotation(options(signingWith(a)))).rejects.toThrow(/no rotation is prepared/);

    await prepareRotation({ ...options(signingWith(a)), nextKeys: verifying(c) });
    now = new Date(now.getTime() + DEFAULT_RETAIN_MS + 1);
    await publish(options(signingWith(a)));
    expect([await accepts(a), await accepts(b), await accepts(c)]).toEqual([true, false, true]);
    expect((await rotationStatus(options(signingWith(a)))).stage).toBe("prepared");
  });

  it("ends in the same state when a phase dies midway and is run again", async () => {
    await publish(options(signingWith(a)));
    // The keys.json write fails for good after the state was written: the run dies there.
    proxy.failNext(20, {
      status: 403,
      match: (request) => request.method === "PUT" && request.path.includes("keys.json"),
    });
    await expect(
      prepareRotation({ ...options(signingWith(a)), nextKeys: verifying(b) }),
    ).rejects.toMatchObject({
      code: "ERR_AWS_ACCESS_DENIED",
    });
    expect(await accepts(b)).toBe(false); // nothing half-published: B is not announced yet
    expect(await accepts(a)).toBe(true);
    proxy.clear();
    await prepareRotation({ ...options(signingWith(a)), nextKeys: verifying(b) });
    // The state's generation counts its writes, and the run that died wrote it once more; the
    // provider it names is each prefix's own.
    const decisions = async (key: string) => {
      const state = JSON.parse(await object(key));
      const provider = state.oidcProviderArn?.replace(/\/(prod|clean)$/, "/PREFIX");
      return { ...state, generation: 0, oidcProviderArn: provider };
    };
    const afterRetry = [await object("prod/keys.json"), await decisions("prod/.irsa-anywhere-state.json")];

    // The same phases, uninterrupted, under another prefix.
    const clean = (cluster: PublicSigningKey[]) => options(cluster, { prefix: "clean" });
    await publish(clean(signingWith(a)));
    await prepareRotation({ ...clean(signingWith(a)), nextKeys: verifying(b) });
    expect(afterRetry).toEqual([
      await object("clean/keys.json"),
      await decisions("clean/.irsa-anywhere-state.json"),
    ]);
  });
});

describe("many publishers at once", () => {
  it("loses no key when ten publishers with different keys run through a slow network", async () => {
    proxy.delayMs = 15;
    const pairs = Array.from({ length: 10 }, () => generateTestKey({ type: "ec", curve: "P-256" }));
    await Promise.all(pairs.map((pair) => publish(options(signingWith(pair)))));
    proxy.delayMs = 0;
    const published = JSON.parse(await object("prod/keys.json")).keys.map((k: { kid: string }) => k.kid);
    expect(new Set(published)).toEqual(new Set([...pairs.map(kidOf), ""]));
    const state = JSON.parse(await object("prod/.irsa-anywhere-state.json"));
    expect(new Set(Object.keys(state.keys))).toEqual(new Set(pairs.map(kidOf)));
    for (const pair of pairs) expect(await accepts(pair)).toBe(true);
  });
});

describe("faults on the way to S3", () => {
  it("retries throttling and server errors and still publishes", async () => {
    proxy.failNext(2, { status: 503 });
    proxy.failNext(1, { status: 500, match: (request) => request.method === "PUT" });
    proxy.resetNext(1, { match: (request) => request.method === "PUT" });
    const result = await publish(options(signingWith(a)));
    expect(result.documents.every((d) => d.written)).toBe(true);
    expect(await accepts(a)).toBe(true);
  });

  it("fails with one clear line when S3 keeps failing, and what was published stays whole", async () => {
    await publish(options(signingWith(a)));
    await prepareRotation({ ...options(signingWith(a)), nextKeys: verifying(b) });
    const before = [await object("prod/keys.json"), await object("prod/.well-known/openid-configuration")];
    proxy.failNext(50, { status: 500, match: (request) => request.method === "PUT" });
    const failure = publish(
      options([...signingWith(b), ...verifying(a)], {
        keys: [...signingWith(b), ...verifying(a)],
        emptyKidTwin: false,
      }),
    );
    await expect(failure).rejects.toMatchObject({ code: "ERR_AWS_REQUEST_FAILED" });
    await expect(failure).rejects.toThrow(/^[^\n]+$/);
    proxy.clear();
    expect([await object("prod/keys.json"), await object("prod/.well-known/openid-configuration")]).toEqual(
      before,
    );
    expect([await accepts(a), await accepts(b)]).toEqual([true, true]);
  });
});

// publish() against a local moto server, through the real AWS SDK, with a recording proxy in
// front so that tests can count what a publish sent.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
} from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";
import { httpsGet } from "@irsa-anywhere/discovery";
import { type PublicSigningKey, parseJwks, publicKeysFromPem } from "@irsa-anywhere/keys";
import {
  BUCKET_POLICY_MAX_BYTES,
  type BucketPublishOptions,
  PublishError,
  planPublicReadPolicy,
  publish,
} from "@irsa-anywhere/publisher";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { type HttpsIssuer, startHttpsIssuer } from "./support/https-issuer.js";
import { generateTestKey, pem } from "./support/keys.js";
import { awsTestEnv, type MotoServer, startMoto } from "./support/moto.js";
import { freeLoopbackPort } from "./support/ports.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";
import { createCertificateAuthority } from "./support/tls.js";

const region = "us-west-2";
const bucket = "oidc-test-bucket";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
let moto: MotoServer;
let proxy: RecordingProxy;
let s3: S3Client;
let iam: IAMClient;
let sts: STSClient;

const newKey = (): PublicSigningKey[] =>
  publicKeysFromPem(pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"), "sa.pub");
const keyA = newKey();
const keyB = newKey();
const kid = (keys: PublicSigningKey[]) => keys[0]?.kid;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  s3 = new S3Client({ region, endpoint: proxy.url, forcePathStyle: true, credentials });
  iam = new IAMClient({ region: "us-east-1", endpoint: proxy.url, credentials });
  sts = new STSClient({ region, endpoint: proxy.url, credentials });
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
    keys: keyA,
    bucket,
    prefix: "clusters/prod",
    region,
    endpointUrl: proxy.url,
    clients: { s3, iam, sts },
    // STS must be able to read what is published, or publish fails: a public bucket policy.
    publicReadPolicy: true,
    ...extra,
  };
}

async function objectText(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString()) ?? "";
}

/** An IAM or STS request of that action: both name it only in the body. */
const isAction = (action: string) => (r: { body: string }) => r.body.includes(`Action=${action}`);
const actionOf = (r: { body: string }) => new URLSearchParams(r.body).get("Action");

const writes = () =>
  proxy.requests.filter(
    (r) => r.method === "PUT" || (r.method === "POST" && !/Action=(List|Get)/.test(r.body ?? "")),
  );

describe("publish to S3", () => {
  it("publishes both documents, registers the provider, and derives the issuer", async () => {
    const result = await publish(options());
    expect(result.issuer).toBe(`https://${bucket}.s3.${region}.amazonaws.com/clusters/prod`);
    const discovery = JSON.parse(await objectText("clusters/prod/.well-known/openid-configuration"));
    expect(discovery.issuer).toBe(result.issuer);
    expect(discovery.jwks_uri).toBe(`${result.issuer}/keys.json`);
    expect(parseJwks(await objectText("clusters/prod/keys.json"), "k").keys.map((k) => k.kid)).toEqual([
      kid(keyA),
    ]);

    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "clusters/prod/keys.json" }));
    expect(object.ContentType).toBe("application/json");
    expect(object.CacheControl).toBe("public, max-age=300");

    const providers = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    const arn = providers.OpenIDConnectProviderList?.[0]?.Arn;
    expect(arn).toMatch(/:oidc-provider\/oidc-test-bucket\.s3\.us-west-2\.amazonaws\.com\/clusters\/prod$/);
    expect(result.oidcProvider).toMatchObject({ arn, action: "create" });
    const provider = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    expect(provider.ClientIDList).toEqual(["sts.amazonaws.com"]);
    expect(provider.Tags).toContainEqual({ Key: "managed-by", Value: "irsa-anywhere" });

    expect(proxy.requests.some((r) => /[?&]acl/.test(r.path) || r.headers["x-amz-acl"])).toBe(false);
  });

  it("writes both documents at once on a first publish that nothing trusts yet, and in order otherwise", async () => {
    // The most document writes in flight at once, per publish.
    let inFlight = 0;
    let most = 0;
    proxy.hold = async (request) => {
      if (request.method !== "PUT" || !/keys\.json|openid-configuration/.test(request.path)) return undefined;
      most = Math.max(most, ++inFlight);
      // Held a moment, so that a write sent right after another finds it still in flight.
      await new Promise((resolve) => setTimeout(resolve, 50));
      return () => {
        inFlight--;
      };
    };
    try {
      // No discovery document and no provider: no reader can be sent to keys.json yet.
      await publish(options());
      expect(most).toBe(2);

      // A new key: the discovery document exists, so keys.json is written before it.
      most = 0;
      await publish(options({ keys: [...keyA, ...keyB] }));
      expect(most).toBe(1);

      // A provider registered by hand trusts the issuer before anything is published there.
      await iam.send(
        new CreateOpenIDConnectProviderCommand({
          Url: `https://${bucket}.s3.${region}.amazonaws.com/clusters/other`,
          ClientIDList: ["sts.amazonaws.com"],
        }),
      );
      most = 0;
      proxy.clear();
      await publish(options({ prefix: "clusters/other" }));
      expect(most).toBe(1);
      const puts = proxy.requests.filter((r) => r.method === "PUT").map((r) => r.path.split("?")[0] ?? "");
      expect(puts.findIndex((p) => p.endsWith("/keys.json"))).toBeLessThan(
        puts.findIndex((p) => p.endsWith("/openid-configuration")),
      );
    } finally {
      proxy.hold = undefined;
    }
  });

  it("says nothing changed on a republish that registers no provider (--no-oidc-provider)", async () => {
    const first = await publish(options({ oidcProvider: false }));
    expect(first.changed).toBe(true);
    proxy.clear();
    const again = await publish(options({ oidcProvider: false }));
    expect(again.oidcProvider).toBeUndefined();
    expect(writes()).toEqual([]);
    expect(again.changed).toBe(false);
  });

  it("makes no write and four requests when republished with the same key", async () => {
    await publish(options({ publicReadPolicy: true }));
    proxy.clear();
    const result = await publish(options({ publicReadPolicy: true }));
    expect(result.changed).toBe(false);
    expect(proxy.requests.filter((r) => r.method === "PUT")).toEqual([]);
    expect(writes()).toEqual([]);
    // The two documents (anonymously, as STS reads them), the state, and the provider the state names.
    expect(proxy.requests.map((r) => new URLSearchParams(r.body).get("Action") ?? r.method).sort()).toEqual([
      "GET",
      "GET",
      "GET",
      "GetOpenIDConnectProvider",
    ]);
  });

  it("writes the state once on a first publish in an account that has providers: the new one's ARN is in it", async () => {
    // Another cluster's provider tells the account; the one this publish makes is named in the
    // state by its first write, not by a second one after IAM made it.
    await publish(options({ prefix: "clusters/other" }));
    proxy.clear();
    const result = await publish(options());
    expect(result.oidcProvider).toMatchObject({ action: "create", written: true });
    const stateWrites = proxy.requests.filter(
      (r) => r.method === "PUT" && r.path.includes("clusters/prod/.irsa-anywhere-state.json"),
    );
    expect(stateWrites).toHaveLength(1);
    const state = JSON.parse(await objectText("clusters/prod/.irsa-anywhere-state.json"));
    expect(state.oidcProviderArn).toBe(result.oidcProvider?.arn);
  });

  const stateWrites = () =>
    proxy.requests.filter(
      (r) => r.method === "PUT" && r.path.includes("clusters/prod/.irsa-anywhere-state.json"),
    );

  it("writes the state once on a first publish in an account with no provider: STS tells the account, beside the list", async () => {
    // Held until STS has been asked too: the two are sent at once, not one after the other.
    let stsAsked = () => {};
    const asked = new Promise<void>((resolve) => {
      stsAsked = resolve;
    });
    proxy.hold = async (request) => {
      if (isAction("GetCallerIdentity")(request)) stsAsked();
      if (isAction("ListOpenIDConnectProviders")(request)) await asked;
      return undefined;
    };
    const result = await publish(options()).finally(() => {
      proxy.hold = undefined;
    });
    expect(result.oidcProvider).toMatchObject({ action: "create", written: true });
    expect(stateWrites()).toHaveLength(1);
    const state = JSON.parse(await objectText("clusters/prod/.irsa-anywhere-state.json"));
    expect(state.oidcProviderArn).toBe(result.oidcProvider?.arn);
    expect(proxy.requests.filter(isAction("GetCallerIdentity"))).toHaveLength(1);
  });

  it("writes the state again when IAM's ARN is not the one predicted: never a wrong ARN left in it", async () => {
    // STS names an account other than the one IAM makes the provider in.
    proxy.rewrite = (request, body) =>
      isAction("GetCallerIdentity")(request)
        ? body.replace(/<Account>\d+<\/Account>/, "<Account>444455556666</Account>")
        : undefined;
    const result = await publish(options()).finally(() => {
      proxy.rewrite = undefined;
    });
    expect(result.oidcProvider?.arn).not.toContain("444455556666");
    expect(stateWrites()).toHaveLength(2);
    const state = JSON.parse(await objectText("clusters/prod/.irsa-anywhere-state.json"));
    expect(state.oidcProviderArn).toBe(result.oidcProvider?.arn);
  });

  it("publishes when STS refuses GetCallerIdentity, and records the ARN once the provider is made", async () => {
    proxy.failNext(1, { status: 403, match: isAction("GetCallerIdentity") });
    const result = await publish(options());
    expect(result.oidcProvider).toMatchObject({ action: "create", written: true });
    expect(proxy.requests.filter(isAction("GetCallerIdentity"))[0]?.status).toBe(403);
    expect(stateWrites()).toHaveLength(2);
    const state = JSON.parse(await objectText("clusters/prod/.irsa-anywhere-state.json"));
    expect(state.oidcProviderArn).toBe(result.oidcProvider?.arn);
  });

  it("lists the providers again when the one the state names is gone, and records the new one", async () => {
    const first = await publish(options());
    const arn = first.oidcProvider?.arn ?? "";
    expect(JSON.parse(await objectText("clusters/prod/.irsa-anywhere-state.json")).oidcProviderArn).toBe(arn);
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    proxy.clear();
    const again = await publish(options());
    expect(again.oidcProvider).toMatchObject({ action: "create", written: true });
    const actions = proxy.requests.map((r) => new URLSearchParams(r.body).get("Action")).filter(Boolean);
    expect(actions).toEqual([
      "GetOpenIDConnectProvider",
      "ListOpenIDConnectProviders",
      "CreateOpenIDConnectProvider",
    ]);
    const providers = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(providers.OpenIDConnectProviderList?.map((p) => p.Arn)).toEqual([again.oidcProvider?.arn]);
  });

  it("never takes another issuer's provider for its own, whatever the state names", async () => {
    await publish(options({ prefix: "clusters/other" }));
    const otherState = await objectText("clusters/other/.irsa-anywhere-state.json");
    // The state of one issuer copied beside another's: its provider ARN names the other issuer.
    await publish(options());
    const own = JSON.parse(await objectText("clusters/prod/.irsa-anywhere-state.json"));
    const copied = { ...own, oidcProviderArn: JSON.parse(otherState).oidcProviderArn };
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "clusters/prod/.irsa-anywhere-state.json",
        Body: `${JSON.stringify(copied, null, 2)}\n`,
      }),
    );
    proxy.clear();
    const result = await publish(options());
    expect(result.oidcProvider?.arn).toMatch(/oidc-provider\/.*\/clusters\/prod$/);
    const actions = proxy.requests.map((r) => new URLSearchParams(r.body).get("Action")).filter(Boolean);
    expect(actions).toEqual(["ListOpenIDConnectProviders", "GetOpenIDConnectProvider"]);
    // ...and the state names the right one again.
    expect(JSON.parse(await objectText("clusters/prod/.irsa-anywhere-state.json")).oidcProviderArn).toBe(
      result.oidcProvider?.arn,
    );
  });

  it("keeps the previous key when the cluster's key changes", async () => {
    await publish(options());
    const result = await publish(options({ keys: keyB }));
    expect(result.keys).toMatchObject({ current: kid(keyB), added: [kid(keyB)], retained: [kid(keyA)] });
    const published = parseJwks(await objectText("clusters/prod/keys.json"), "k");
    expect(published.keys.map((k) => k.kid)).toEqual([kid(keyB), kid(keyA)]);
    expect(published.emptyKidKeys[0]?.publicKey.equals(keyB[0]?.publicKey as never)).toBe(true);
  });

  it("loses neither key when two publishers with different keys run at once", async () => {
    await Promise.all([publish(options()), publish(options({ keys: keyB }))]);
    const published = parseJwks(await objectText("clusters/prod/keys.json"), "k");
    expect(new Set(published.keys.map((k) => k.kid))).toEqual(new Set([kid(keyA), kid(keyB)]));
    const providers = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(providers.OpenIDConnectProviderList).toHaveLength(1);
  });

  it("works on a bucket with ACLs disabled", async () => {
    await s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: bucket,
        OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
      }),
    );
    const result = await publish(options());
    expect(result.documents.every((d) => d.written)).toBe(true);
    // moto takes an ACL even here, where S3 answers AccessControlListNotSupported: so check that
    // none was sent.
    const puts = proxy.requests.filter((r) => r.method === "PUT");
    expect(puts.length).toBeGreaterThanOrEqual(2);
    for (const put of puts) {
      expect(
        Object.keys(put.headers).filter((name) => name.startsWith("x-amz-grant") || name === "x-amz-acl"),
      ).toEqual([]);
      expect(put.path).not.toMatch(/[?&]acl/);
    }
  });

  it("adds the public-read statement beside the bucket's own, and leaves it on a rerun", async () => {
    const existing = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Theirs",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:DeleteObject",
          Resource: `arn:aws:s3:::${bucket}/*`,
        },
      ],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(existing) }));
    const result = await publish(options({ publicReadPolicy: true }));
    expect(result.bucketPolicy).toMatchObject({ action: "update", written: true });
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? "{}");
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(["Theirs", result.bucketPolicy?.sid]);
    expect(policy.Statement[1]).toMatchObject({ Effect: "Allow", Principal: "*", Action: "s3:GetObject" });
    expect(policy.Statement[1].Resource).toEqual([
      `arn:aws:s3:::${bucket}/clusters/prod/.well-known/openid-configuration`,
      `arn:aws:s3:::${bucket}/clusters/prod/keys.json`,
    ]);
    proxy.clear();
    const rerun = await publish(options({ publicReadPolicy: true }));
    expect(rerun.changed).toBe(false);
    expect(proxy.requests.filter((r) => r.method === "PUT")).toEqual([]);
    const after = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? "{}");
    expect(after).toEqual(policy);
  });

  it("touches no object and calls no IAM action that examples/iam/publisher-policy.json does not grant", async () => {
    const example = JSON.parse(
      await readFile(new URL("../examples/iam/publisher-policy.json", import.meta.url), "utf8"),
    ) as { Statement: Array<{ Action: string | string[]; Resource: string | string[] }> };
    const grantedActions = new Set(example.Statement.flatMap((statement) => [statement.Action].flat()));
    const granted = new Set(
      example.Statement.filter((statement) => [statement.Action].flat().includes("s3:PutObject")).flatMap(
        (statement) => [statement.Resource].flat(),
      ),
    );
    const exampleBucket = "my-oidc-bucket";
    await s3.send(
      new CreateBucketCommand({
        Bucket: exampleBucket,
        CreateBucketConfiguration: { LocationConstraint: region },
      }),
    );
    // A first publish, a rotation and a republish: every object the publisher reads or writes.
    const where = { bucket: exampleBucket, prefix: "prod", publicReadPolicy: true };
    await publish(options(where));
    await publish(options({ ...where, keys: keyB }));
    await publish(options({ ...where, keys: keyB }));
    const objects = new Set(
      proxy.requests
        .map((r) => decodeURIComponent(r.path.split("?")[0] ?? ""))
        // Objects only: bucket-level requests (?policy, ?publicAccessBlock) have an empty key.
        .filter((path) => path.startsWith(`/${exampleBucket}/`) && path.length > exampleBucket.length + 2)
        .map((path) => `arn:aws:s3:::${path.slice(1)}`),
    );
    expect(objects.size).toBeGreaterThanOrEqual(3);
    expect([...objects].filter((arn) => !granted.has(arn))).toEqual([]);
    // STS's GetCallerIdentity (a first publish) needs no permission: no policy can deny it.
    const calls = proxy.requests.flatMap((r) => {
      const action = new URLSearchParams(r.body).get("Action");
      return action && action !== "GetCallerIdentity" ? [`iam:${action}`] : [];
    });
    expect(calls).toContain("iam:CreateOpenIDConnectProvider");
    expect(calls.filter((action) => !grantedActions.has(action))).toEqual([]);
  });

  it("refuses the public-read policy under Block Public Access, naming the setting, and writes nothing", async () => {
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
        },
      }),
    );
    proxy.clear();
    const failure = publish(options({ publicReadPolicy: true }));
    await expect(failure).rejects.toMatchObject({ code: "ERR_PUBLIC_ACCESS_BLOCKED" });
    await expect(failure).rejects.toThrow(/BlockPublicPolicy/);
    expect(proxy.requests.filter((r) => r.method === "PUT")).toEqual([]);
  });

  it("writes the public-read policy beside the state, and no document before the policy is in", async () => {
    // The policy's write held until the test lets it through: the state may be written meanwhile
    // (it is never public), the documents may not.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let policyHeld = () => {};
    const policyArrived = new Promise<void>((resolve) => {
      policyHeld = resolve;
    });
    proxy.hold = async (request) => {
      if (request.method === "PUT" && request.path.includes("?policy")) {
        policyHeld();
        await released;
      }
      return undefined;
    };
    try {
      const run = publish(options({ publicReadPolicy: true }));
      await policyArrived;
      const stateWritten = async () =>
        proxy.requests.some((r) => r.method === "PUT" && r.path.includes(".irsa-anywhere-state.json"));
      await expect.poll(stateWritten).toBe(true);
      const documentPuts = () =>
        proxy.requests.filter((r) => r.method === "PUT" && /keys\.json|openid-configuration/.test(r.path));
      expect(documentPuts()).toEqual([]);
      release();
      const result = await run;
      expect(result.bucketPolicy).toMatchObject({ action: "create", written: true });
      expect(documentPuts()).toHaveLength(2);
    } finally {
      release();
      proxy.hold = undefined;
    }
  });

  it("fails, with the fix, when STS could not read the documents anonymously", async () => {
    // moto, like S3, answers 403 to unsigned reads of private objects
    const failure = publish(options({ publicReadPolicy: false }));
    await expect(failure).rejects.toMatchObject({ code: "ERR_DOCUMENTS_NOT_SERVED", isInputError: false });
    await expect(failure).rejects.toThrow(/HTTP 403 without credentials.*--public-read-policy/);
    // The provider is not registered for documents STS cannot read, not even for a while: it
    // is asked for only once the read-back has succeeded.
    const providers = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(providers.OpenIDConnectProviderList ?? []).toEqual([]);
    const changes = proxy.requests.map(actionOf).filter((action) => /^(Create|Delete)/.test(action ?? ""));
    expect(changes).toEqual([]);
  });

  it("plans without touching anything on a dry run", async () => {
    const result = await publish(options({ dryRun: true }));
    expect(result.documents.map((d) => [d.action, d.written])).toEqual([
      ["create", false],
      ["create", false],
    ]);
    expect(result.oidcProvider).toMatchObject({ action: "create", written: false });
    expect(
      proxy.requests.filter((r) => r.method !== "GET" && !/Action=(List|Get)/.test(r.body ?? "")),
    ).toEqual([]);
  });

  it("says so, clearly, when the bucket does not exist", async () => {
    const failure = publish(options({ bucket: "no-such-bucket" }));
    await expect(failure).rejects.toBeInstanceOf(PublishError);
    await expect(failure).rejects.toMatchObject({ code: "ERR_BUCKET_NOT_FOUND", isInputError: true });
  });

  it("refuses an issuer that is not on the bucket's host, before any request", async () => {
    const failure = publish(options({ issuer: "https://oidc.example.com/prod", prefix: undefined }));
    await expect(failure).rejects.toMatchObject({ code: "ERR_ISSUER_MISMATCH" });
    expect(proxy.requests).toEqual([]);
  });

  it("uses the path-style issuer for a bucket name with dots", async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: "oidc.example.com",
        CreateBucketConfiguration: { LocationConstraint: region },
      }),
    );
    const result = await publish(options({ bucket: "oidc.example.com" }));
    expect(result.issuer).toBe(`https://s3.${region}.amazonaws.com/oidc.example.com/clusters/prod`);
  });

  it("adds a missing audience to an existing provider and never removes one", async () => {
    await publish(options({ audiences: ["sts.amazonaws.com", "custom"] }));
    proxy.clear();
    // moto 5.2 does not implement AddClientIDToOpenIDConnectProvider (it answers 500), so the
    // proxy answers that one call as IAM documents it, and the test checks what was sent.
    proxy.failNext(1, {
      status: 200,
      body: "<AddClientIDToOpenIDConnectProviderResponse><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AddClientIDToOpenIDConnectProviderResponse>",
      match: (request) => request.body.startsWith("Action=AddClientIDToOpenIDConnectProvider"),
    });
    const result = await publish(options({ audiences: ["sts.amazonaws.com", "other"] }));
    expect(result.oidcProvider).toMatchObject({ action: "update", audiencesAdded: ["other"] });
    const actions = proxy.requests.map((r) => new URLSearchParams(r.body).get("Action")).filter(Boolean);
    // The state names the provider since the first publish: asked for by name, not listed.
    expect(actions).toEqual(["GetOpenIDConnectProvider", "AddClientIDToOpenIDConnectProvider"]);
    const add = new URLSearchParams(proxy.requests.find((r) => r.body.includes("AddClientID"))?.body);
    expect(add.get("ClientID")).toBe("other");
    expect(add.get("OpenIDConnectProviderArn")).toBe(result.oidcProvider?.arn);
  });
});

// A thousand clusters publishing into one bucket with --public-read-policy: the bucket policy stays
// under S3's 20 KB limit, each cluster's documents are public, and the publisher's private state is
// never readable without credentials, whatever the statement's form.
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
    const result = await publish(options({ prefix: "clusters/c1000" }));
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

describe("an issuer something else serves (--external-issuer)", () => {
  // A host in front of the bucket, as a CDN serves it: each read goes to the bucket (directly to
  // moto, so that the proxy records only what a publish sent), or is refused while `refuse` says.
  const ca = createCertificateAuthority();
  let served: HttpsIssuer;
  let refuse = false;
  beforeAll(async () => {
    const origin = new S3Client({ region, endpoint: moto.endpoint, forcePathStyle: true, credentials });
    served = await startHttpsIssuer({
      ca,
      origin: async (path) => {
        if (refuse) return { status: 403, body: "<Error><Code>AccessDenied</Code></Error>" };
        try {
          const key = decodeURIComponent(path.slice(1));
          const object = await origin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          return { body: (await object.Body?.transformToString()) ?? "" };
        } catch {
          return undefined;
        }
      },
    });
  });
  afterAll(() => served?.close());
  beforeEach(() => {
    refuse = false;
    served.seen.length = 0;
  });
  const external = (extra: Partial<BucketPublishOptions> = {}) =>
    options({
      issuer: served.issuer,
      externalIssuer: true,
      prefix: undefined,
      clients: {
        s3,
        iam,
        sts,
        httpsGet: (url, readOptions) => httpsGet(url, { ...readOptions, ca: [ca.certPem] }),
      },
      ...extra,
    });
  const stateKey = "prod/.irsa-anywhere-state.json";
  const sent = () =>
    proxy.requests.map(
      (r) =>
        new URLSearchParams(r.body).get("Action") ??
        `${r.method} ${decodeURIComponent(r.path.replace(/\?x-id=\w+$/, "").replace(/=$/, ""))}`,
    );
  /** What the full path of a republish that changes nothing sends with --public-read-policy after the state, sorted. */
  const fullPathAfterState = [
    `GET /${bucket}/?policy`,
    `GET /${bucket}/?publicAccessBlock`,
    `GET /${bucket}/prod/.well-known/openid-configuration`,
    `GET /${bucket}/prod/keys.json`,
    "GetOpenIDConnectProvider",
  ];
  const issuerReads = () => served.seen.map((r) => r.path).sort();
  const bothDocuments = ["/prod/.well-known/openid-configuration", "/prod/keys.json"];

  it("a republish that changes nothing reads the state, then the provider and both documents at the issuer", async () => {
    const first = await publish(external());
    expect(JSON.parse(await objectText(stateKey)).servedAt).toEqual({
      issuer: served.issuer,
      publicReadScope: "auto",
    });
    proxy.clear();
    served.seen.length = 0;
    const rerun = await publish(external());
    expect(rerun).toMatchObject({ changed: false, issuer: served.issuer, warnings: [] });
    expect(rerun.oidcProvider).toMatchObject({ arn: first.oidcProvider?.arn, action: "unchanged" });
    expect(sent()).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
    expect(issuerReads()).toEqual(bothDocuments);
    expect(writes()).toEqual([]);
  });

  it("an issuer that refuses the reads: the full path, which fails as before and writes nothing", async () => {
    await publish(external());
    refuse = true;
    proxy.clear();
    const failure = publish(external());
    await expect(failure).rejects.toMatchObject({ code: "ERR_DOCUMENTS_NOT_SERVED" });
    await expect(failure).rejects.toThrow(
      /keys\.json answers HTTP 403 without credentials, so STS cannot read it/,
    );
    expect(sent().slice(0, 2)).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
    expect(sent().slice(2).sort()).toEqual([...fullPathAfterState].sort());
    expect(writes()).toEqual([]);
  });

  it("a state from before it recorded the issuer: the full path, which records it; then the short one", async () => {
    await publish(external());
    const { servedAt: _, ...older } = JSON.parse(await objectText(stateKey));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: stateKey, Body: JSON.stringify(older) }));
    proxy.clear();
    served.seen.length = 0;
    const upgraded = await publish(external());
    expect(upgraded.changed).toBe(false);
    expect(sent()[0]).toBe(`GET /${bucket}/${stateKey}`);
    expect(sent().slice(1).sort()).toEqual([...fullPathAfterState, `PUT /${bucket}/${stateKey}`].sort());
    // Read at the issuer by the full path alone: the short one had nothing to compare with.
    expect(issuerReads()).toEqual(bothDocuments);
    expect(JSON.parse(await objectText(stateKey)).servedAt).toEqual({
      issuer: served.issuer,
      publicReadScope: "auto",
    });
    proxy.clear();
    await publish(external());
    expect(sent()).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
  });

  it("an issuer this machine cannot reach: warnings, and no record, so the next run does not try it first", async () => {
    const unreachable = `https://127.0.0.1:${await freeLoopbackPort()}/prod`;
    const first = await publish(external({ issuer: unreachable }));
    expect(first.warnings).toHaveLength(2);
    expect(JSON.parse(await objectText(stateKey)).servedAt).toBeUndefined();
    proxy.clear();
    const rerun = await publish(external({ issuer: unreachable }));
    expect(rerun.warnings).toHaveLength(2);
    expect(sent().slice(1).sort()).toEqual([...fullPathAfterState].sort());
    expect(writes()).toEqual([]);
  });

  it("other options than the state records: the full path, which records them", async () => {
    await publish(external());
    proxy.clear();
    const exact = await publish(external({ publicReadScope: "exact" }));
    expect(exact.bucketPolicy).toMatchObject({ action: "unchanged", scope: "exact" });
    expect(sent().slice(1).sort()).toEqual([...fullPathAfterState, `PUT /${bucket}/${stateKey}`].sort());
    expect(JSON.parse(await objectText(stateKey)).servedAt).toEqual({
      issuer: served.issuer,
      publicReadScope: "exact",
    });
    proxy.clear();
    await publish(external({ publicReadScope: "exact" }));
    expect(sent()).toEqual([`GET /${bucket}/${stateKey}`, "GetOpenIDConnectProvider"]);
  });
});

// The built CLI, as a scheduled job runs it, its AWS settings from the environment.
describe("the command line", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "irsa-s3-publish-"));
    await writeFile(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const publishCli = (env: Record<string, string>, ...extra: string[]) =>
    runCli(
      ["publish", "--key", "sa.pub", "--bucket", bucket, "--prefix", "prod", "--region", region, ...extra],
      { env: { ...awsTestEnv(proxy.url), HOME: dir, ...env }, isolated: true, cwd: dir },
    );

  it("asks STS nothing when the credentials carry the account (AWS_ACCOUNT_ID), and records the ARN all the same", async () => {
    // moto's account: the ARN predicted from it is the one IAM gives.
    const first = await publishCli({ AWS_ACCOUNT_ID: "123456789012" }, "--public-read-policy", "--json");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const arn = JSON.parse(first.stdout).oidcProvider.arn;
    expect(arn).toMatch(/^arn:aws:iam::123456789012:oidc-provider\//);
    expect(proxy.requests.filter(isAction("GetCallerIdentity"))).toEqual([]);
    const stateWrites = proxy.requests.filter(
      (r) => r.method === "PUT" && r.path.includes("prod/.irsa-anywhere-state.json"),
    );
    expect(stateWrites).toHaveLength(1);
    expect(JSON.parse(await objectText("prod/.irsa-anywhere-state.json")).oidcProviderArn).toBe(arn);
    proxy.clear();
    const again = await publishCli({}, "--public-read-policy", "--json");
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).changed).toBe(false);
    expect(proxy.requests).toHaveLength(4);
    expect(writes()).toEqual([]);
  });
});

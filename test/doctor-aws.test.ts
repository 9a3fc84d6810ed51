// diagnose() with IAM and STS: a local moto server behind a recording proxy, and a real HTTPS
// issuer. moto's AssumeRoleWithWebIdentity accepts any token for any role, so what proves a
// token here is the doctor's own STS-like verification and trust-policy evaluation; the call to
// moto shows the wiring and the assumed-role ARN.
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  IAMClient,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import {
  type Check,
  type CheckId,
  type DiagnoseOptions,
  type Diagnosis,
  diagnose,
  STS_ERRORS,
  signingKeyFromPem,
} from "@irsa-anywhere/doctor";
import { publicKeysFromPem } from "@irsa-anywhere/keys";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type HttpsIssuer, startHttpsIssuer } from "./support/https-issuer.js";
import { generateTestKey, pem } from "./support/keys.js";
import { awsTestClientConfig, type MotoServer, startMoto } from "./support/moto.js";
import { type RecordingProxy, startRecordingProxy } from "./support/recording-proxy.js";
import { createCertificateAuthority } from "./support/tls.js";

const account = "123456789012";
const roleArn = `arn:aws:iam::${account}:role/payments-api`;
const subject = "system:serviceaccount:payments:api";
const signingPem = pem(generateTestKey({ type: "rsa", bits: 2048 }).privateKey, "pkcs8");
const keys = publicKeysFromPem(signingPem, "sa.key");
const signingKey = signingKeyFromPem(signingPem, "sa.key");
const otherSigningKey = signingKeyFromPem(
  pem(generateTestKey({ type: "ec", curve: "P-256" }).privateKey, "sec1"),
  "x",
);

let moto: MotoServer;
let proxy: RecordingProxy;
let iam: IAMClient;
let sts: STSClient;
let issuer: HttpsIssuer;
let hostPath: string;
let providerArn: string;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  iam = new IAMClient(awsTestClientConfig(proxy.url));
  sts = new STSClient(awsTestClientConfig(proxy.url));
  issuer = await startHttpsIssuer({ ca: createCertificateAuthority() });
  issuer.publish(keys);
  hostPath = issuerHostPath(issuer.issuer);
  providerArn = `arn:aws:iam::${account}:oidc-provider/${hostPath}`;
});
afterAll(async () => {
  iam?.destroy();
  sts?.destroy();
  await issuer?.close();
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.clear();
});

const exactPolicy = () => ({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { [`${hostPath}:sub`]: subject, [`${hostPath}:aud`]: "sts.amazonaws.com" } },
    },
  ],
});

async function setUp(options: { provider?: false | string[]; policy?: object | false } = {}): Promise<void> {
  if (options.provider !== false) {
    await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: issuer.issuer,
        ClientIDList: options.provider ?? ["sts.amazonaws.com"],
      }),
    );
  }
  if (options.policy !== false) {
    await iam.send(
      new CreateRoleCommand({
        RoleName: "payments-api",
        AssumeRolePolicyDocument: JSON.stringify(options.policy ?? exactPolicy()),
      }),
    );
  }
}

const run = (extra: Partial<DiagnoseOptions> = {}) =>
  diagnose({
    issuer: issuer.issuer,
    ca: issuer.caPem,
    keys,
    serviceAccount: "payments/api",
    roleArn,
    clients: { iam, sts },
    ...extra,
  });

function check(diagnosis: Diagnosis, id: CheckId): Check {
  const found = diagnosis.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

const failed = (diagnosis: Diagnosis) => diagnosis.checks.filter((c) => c.status === "fail").map((c) => c.id);

/** The token the doctor sent to STS, read from the request the proxy forwarded. */
function sentToken(): string | undefined {
  const call = proxy.requests.find((request) => request.body.includes("Action=AssumeRoleWithWebIdentity"));
  return call ? (new URLSearchParams(call.body).get("WebIdentityToken") ?? undefined) : undefined;
}

describe("diagnose: the IAM OIDC provider", () => {
  it("passes a provider for exactly this issuer that lists the audience", async () => {
    await setUp();
    const diagnosis = await run();
    expect(check(diagnosis, "iam-oidc-provider")).toMatchObject({ status: "pass", reason: providerArn });
    expect(check(diagnosis, "iam-provider-audience")).toMatchObject({
      status: "pass",
      reason: "lists sts.amazonaws.com",
    });
    expect(diagnosis.ok).toBe(true);
  });

  it("fails when there is none, with STS's words and the command that registers it", async () => {
    await setUp({ provider: false });
    const diagnosis = await run();
    expect(check(diagnosis, "iam-oidc-provider")).toMatchObject({
      status: "fail",
      code: "ERR_PROVIDER_MISSING",
      reason: `IAM has no OIDC provider for ${hostPath}`,
      sts: `InvalidIdentityToken: No OpenIDConnect provider found in your account for ${issuer.issuer}`,
      fix: expect.stringContaining(`aws iam create-open-id-connect-provider --url ${issuer.issuer}`),
    });
    expect(check(diagnosis, "iam-provider-audience")).toMatchObject({
      status: "skip",
      code: "SKIP_NO_PROVIDER",
    });
  });

  it("names a provider registered for another path of the same host", async () => {
    const staging = issuer.issuer.replace(/\/prod$/, "/staging");
    await iam.send(
      new CreateOpenIDConnectProviderCommand({ Url: staging, ClientIDList: ["sts.amazonaws.com"] }),
    );
    const diagnosis = await run();
    expect(check(diagnosis, "iam-oidc-provider").reason).toMatch(
      new RegExp(`this host has providers for ${issuerHostPath(staging).replace(/[.]/g, "\\.")}`),
    );
  });

  it("fails a provider that does not list the tokens' audience", async () => {
    await setUp({ provider: ["sts.amazonaws.com.cn"] });
    const diagnosis = await run();
    expect(check(diagnosis, "iam-provider-audience")).toMatchObject({
      status: "fail",
      code: "ERR_PROVIDER_AUDIENCE_MISSING",
      reason: "the provider lists sts.amazonaws.com.cn, not sts.amazonaws.com, the audience of the tokens",
      sts: "InvalidIdentityToken: Incorrect token audience",
      fix: expect.stringContaining("aws iam add-client-id-to-open-id-connect-provider"),
    });
  });

  it("checks the audience given instead of the default", async () => {
    await setUp({ provider: ["sts.amazonaws.com", "my-audience"] });
    const diagnosis = await run({ audience: "my-audience", roleArn: undefined });
    expect(check(diagnosis, "iam-provider-audience").reason).toBe("lists my-audience");
  });

  it("reports IAM it cannot read as not checked, a warning with the fix, and carries on", async () => {
    const noCredentials = new IAMClient({
      ...awsTestClientConfig(proxy.url),
      credentials: () =>
        Promise.reject(
          Object.assign(new Error("Could not load credentials from any providers"), {
            name: "CredentialsProviderError",
          }),
        ),
      maxAttempts: 1,
    });
    try {
      const diagnosis = await run({ clients: { iam: noCredentials, sts } });
      expect(check(diagnosis, "iam-oidc-provider")).toMatchObject({
        status: "warn",
        code: "NOT_CHECKED_AWS",
        reason: "not checked: iam:ListOpenIDConnectProviders: no AWS credentials found",
        fix: expect.stringMatching(/AWS_PROFILE/),
        details: { notChecked: true },
      });
      expect(check(diagnosis, "role-trust-policy")).toMatchObject({
        status: "warn",
        code: "NOT_CHECKED_AWS",
      });
      expect(check(diagnosis, "jwks-keys").status).toBe("pass");
    } finally {
      noCredentials.destroy();
    }
  });
});

describe("diagnose: the role's trust policy", () => {
  const statement = (condition: object, extra: object = {}) => ({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${hostPath}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: condition,
        ...extra,
      },
    ],
  });
  const sub = () => `${hostPath}:sub`;
  const aud = () => `${hostPath}:aud`;

  const cases: Array<{
    name: string;
    policy: () => object;
    status: "pass" | "warn" | "fail";
    reason: RegExp;
  }> = [
    {
      name: "the policy irsa-anywhere trust-policy prints",
      policy: exactPolicy,
      status: "pass",
      reason: /statement 1 lets in system:serviceaccount:payments:api with audience sts\.amazonaws\.com/,
    },
    {
      name: "another service account",
      policy: () =>
        statement({
          StringEquals: { [sub()]: "system:serviceaccount:payments:web", [aud()]: "sts.amazonaws.com" },
        }),
      status: "fail",
      reason:
        /StringEquals on \S+:sub: "system:serviceaccount:payments:api" equals none of "system:serviceaccount:payments:web"/,
    },
    {
      name: "another audience",
      policy: () => statement({ StringEquals: { [sub()]: subject, [aud()]: "sts.amazonaws.com.cn" } }),
      status: "fail",
      reason: /:aud: "sts\.amazonaws\.com" equals none of "sts\.amazonaws\.com\.cn"/,
    },
    {
      name: "another issuer's provider",
      policy: () => ({
        ...statement({ StringEquals: { [sub()]: subject } }),
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/oidc.example.com/prod` },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { "oidc.example.com/prod:sub": subject } },
          },
        ],
      }),
      status: "fail",
      reason:
        /does not trust arn:aws:iam::123456789012:oidc-provider\/127\.0\.0\.1:\d+\/prod \(it trusts Federated arn:aws:iam::123456789012:oidc-provider\/oidc\.example\.com\/prod\)/,
    },
    {
      name: "sts:AssumeRole instead of the web identity action",
      policy: () => statement({ StringEquals: { [sub()]: subject } }, { Action: "sts:AssumeRole" }),
      status: "fail",
      reason: /allows sts:AssumeRole, not sts:AssumeRoleWithWebIdentity/,
    },
    {
      name: "a wildcard that lets in every service account",
      policy: () =>
        statement({
          StringLike: { [sub()]: "system:serviceaccount:*" },
          StringEquals: { [aud()]: "sts.amazonaws.com" },
        }),
      status: "warn",
      reason: /but it lets in every service account of the cluster/,
    },
    {
      name: "no condition at all",
      policy: () => statement({}),
      status: "warn",
      reason: /every service account of the cluster .*; and it does not check \S+:aud/,
    },
    {
      name: "no :aud condition",
      policy: () => statement({ StringEquals: { [sub()]: subject } }),
      status: "warn",
      reason: /does not check \S+:aud/,
    },
    {
      name: "a namespace-wide wildcard, on purpose",
      policy: () =>
        statement({
          StringLike: { [sub()]: "system:serviceaccount:payments:*" },
          StringEquals: { [aud()]: "sts.amazonaws.com" },
        }),
      status: "pass",
      reason: /lets in/,
    },
  ];

  it.each(cases)("$status: $name", async ({ policy, status, reason }) => {
    await setUp({ policy: policy() });
    const diagnosis = await run();
    const trust = check(diagnosis, "role-trust-policy");
    const code = { pass: "OK", fail: "ERR_TRUST_DENIED", warn: "WARN_TRUST_TOO_BROAD" }[status];
    expect(trust).toMatchObject({ status, code });
    // Which statement decided, and why, is the point of the message.
    expect(trust.reason).toMatch(reason);
    if (status === "fail") {
      expect(trust.sts).toBe("AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity");
      // role create, which merges the service account into the role's own policy, never a new
      // one in its place.
      expect(trust.fix).toMatch(
        /^irsa-anywhere role create --role-name payments-api --issuer \S+ --service-account payments\/api --role-only$/,
      );
      expect(failed(diagnosis)).toEqual(["role-trust-policy"]);
    }
    // Narrowing a policy is an edit by hand: no fix replaces a role's whole policy.
    if (status === "warn") expect(trust.fix).not.toContain("update-assume-role-policy");
  });

  it("fails a role that does not exist", async () => {
    await setUp({ policy: false });
    const trust = check(await run(), "role-trust-policy");
    expect(trust).toMatchObject({
      status: "fail",
      code: "ERR_ROLE_MISSING",
      reason: "there is no role payments-api in account 123456789012",
      fix: expect.stringMatching(
        /^check the role ARN, or create it: irsa-anywhere role create --role-name payments-api --issuer \S+ --service-account payments\/api --role-only$/,
      ),
    });
  });

  it("skips without a role or a service account, saying what to add", async () => {
    await setUp();
    expect(check(await run({ roleArn: undefined }), "role-trust-policy")).toMatchObject({
      status: "skip",
      code: "SKIP_NO_ROLE",
      reason: expect.stringMatching(/add --role-arn ARN/),
    });
    expect(check(await run({ serviceAccount: undefined }), "role-trust-policy")).toMatchObject({
      status: "skip",
      code: "SKIP_NO_SERVICE_ACCOUNT",
      reason: expect.stringMatching(/--service-account/),
    });
  });

  it("sees the policy as it is now", async () => {
    await setUp();
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: "payments-api",
        PolicyDocument: JSON.stringify(
          statement({ StringEquals: { [sub()]: "system:serviceaccount:other:api" } }),
        ),
      }),
    );
    expect(check(await run(), "role-trust-policy").status).toBe("fail");
  });
});

describe("diagnose: the smoke test", () => {
  it("mints a token, verifies it as STS does, assumes the role, and never shows the token", async () => {
    await setUp();
    const diagnosis = await run({ smokeTest: true, signingKey });

    expect(check(diagnosis, "smoke-token")).toMatchObject({
      status: "pass",
      reason: `a token for sts.amazonaws.com signed with key ${keys[0]?.kid} (RS256) verifies against the published JWKS`,
    });
    expect(check(diagnosis, "smoke-assume-role")).toMatchObject({
      status: "pass",
      reason: `assumed arn:aws:sts::${account}:assumed-role/payments-api/irsa-anywhere-doctor`,
      details: {
        roleArn,
        assumedRoleArn: `arn:aws:sts::${account}:assumed-role/payments-api/irsa-anywhere-doctor`,
      },
    });
    expect(diagnosis.ok).toBe(true);

    const token = sentToken();
    expect(token).toMatch(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
    const [header, payload] = (token ?? "")
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    expect(header).toEqual({ alg: "RS256", kid: keys[0]?.kid });
    expect(payload).toMatchObject({
      iss: issuer.issuer,
      sub: subject,
      aud: ["sts.amazonaws.com"],
      "kubernetes.io": { namespace: "payments", serviceaccount: { name: "api" } },
    });
    expect(payload.exp - payload.iat).toBe(600);
    expect(payload.nbf).toBe(payload.iat);
    const everything = JSON.stringify(diagnosis);
    expect(everything).not.toContain(token);
    expect(everything).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it("does not send a token STS would refuse: one signed by a key that is not published", async () => {
    await setUp();
    const diagnosis = await run({ smokeTest: true, signingKey: otherSigningKey });
    expect(check(diagnosis, "smoke-token")).toMatchObject({
      status: "fail",
      code: "ERR_TOKEN_KEY_MISSING",
      reason: `the JWKS has no key with kid "${otherSigningKey.kid}", the kid kube-apiserver puts in tokens signed with this key`,
      sts: STS_ERRORS.noKey,
    });
    expect(check(diagnosis, "smoke-assume-role")).toMatchObject({
      status: "skip",
      code: "SKIP_TOKEN_REFUSED",
    });
    expect(sentToken()).toBeUndefined();
  });

  it("does not send a token the trust policy refuses (moto would accept it)", async () => {
    await setUp({
      policy: {
        ...exactPolicy(),
        Statement: [
          { ...exactPolicy().Statement[0], Condition: { StringEquals: { [`${hostPath}:sub`]: "x" } } },
        ],
      },
    });
    const diagnosis = await run({ smokeTest: true, signingKey });
    expect(check(diagnosis, "smoke-token").status).toBe("pass");
    expect(check(diagnosis, "smoke-assume-role")).toMatchObject({
      status: "skip",
      code: "SKIP_TRUST_DENIED",
    });
    expect(sentToken()).toBeUndefined();
  });

  it("fails a token for an audience the provider does not list", async () => {
    await setUp({ provider: ["other"] });
    const diagnosis = await run({ smokeTest: true, signingKey });
    expect(check(diagnosis, "smoke-token")).toMatchObject({
      status: "fail",
      code: "ERR_TOKEN_AUDIENCE",
      sts: STS_ERRORS.audience,
    });
  });

  it("refuses to run without what it needs, before any request", async () => {
    await expect(run({ smokeTest: true })).rejects.toMatchObject({ code: "ERR_SIGNING_KEY_MISSING" });
    await expect(run({ smokeTest: true, signingKey, serviceAccount: undefined })).rejects.toMatchObject({
      code: "ERR_SMOKE_TEST_INCOMPLETE",
    });
    await expect(run({ smokeTest: true, signingKey, roleArn: undefined })).rejects.toMatchObject({
      code: "ERR_SMOKE_TEST_INCOMPLETE",
    });
    await expect(run({ roleArn: "payments-api" })).rejects.toMatchObject({ code: "ERR_ROLE_ARN_INVALID" });
    expect(proxy.requests).toEqual([]);
  });
});

// STS's error catalogue for self-hosted IRSA, one row at a time: a whole chain that passes every
// check (issuer over HTTPS, IAM and STS in moto, a fake Kubernetes API, a smoke test), then each
// row breaks exactly one link and the doctor must fail on it, with STS's words and a fix, and on
// nothing else.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import {
  type CheckId,
  type Diagnosis,
  diagnose,
  type SigningKey,
  signingKeyFromPem,
} from "@irsa-anywhere/doctor";
import { buildJwks, type PublicSigningKey, publicKeysFromPem } from "@irsa-anywhere/keys";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubernetes, startFakeKubernetes } from "./support/fake-kubernetes.js";
import { type HttpsIssuer, startHttpsIssuer } from "./support/https-issuer.js";
import { generateTestKey, pem } from "./support/keys.js";
import { awsTestClientConfig, type MotoServer, startMoto } from "./support/moto.js";
import { createCertificateAuthority } from "./support/tls.js";

const account = "123456789012";
const roleArn = `arn:aws:iam::${account}:role/payments-api`;
const subject = "system:serviceaccount:payments:api";

interface ClusterKey {
  keys: PublicSigningKey[];
  signingKey: SigningKey;
}
const clusterKey = (): ClusterKey => {
  const privatePem = pem(generateTestKey({ type: "rsa", bits: 2048 }).privateKey, "pkcs1");
  return {
    keys: publicKeysFromPem(privatePem, "sa.key"),
    signingKey: signingKeyFromPem(privatePem, "sa.key"),
  };
};
const original = clusterKey();
const rotated = clusterKey();

let moto: MotoServer;
let iam: IAMClient;
let sts: STSClient;
let issuer: HttpsIssuer;
let api: FakeKubernetes;
let dir: string;
let kubeconfig: string;
let hostPath: string;

beforeAll(async () => {
  const ca = createCertificateAuthority();
  moto = await startMoto();
  iam = new IAMClient(awsTestClientConfig(moto.endpoint));
  sts = new STSClient(awsTestClientConfig(moto.endpoint));
  issuer = await startHttpsIssuer({ ca });
  hostPath = issuerHostPath(issuer.issuer);
  api = await startFakeKubernetes(ca);
  dir = await mkdtemp(join(tmpdir(), "irsa-doctor-sts-"));
  kubeconfig = join(dir, "kubeconfig.yaml");
  await writeFile(kubeconfig, api.kubeconfig());
});
afterAll(async () => {
  iam?.destroy();
  sts?.destroy();
  await issuer?.close();
  await api?.close();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Everything a pod of payments/api needs, in the cluster, at the issuer and in IAM. */
async function healthyChain(
  options: { provider?: boolean; audiences?: string[]; trustedSubject?: string } = {},
) {
  await moto.reset();
  issuer.routes.clear();
  issuer.publish(original.keys);
  runningCluster(original);
  if (options.provider ?? true) {
    await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: issuer.issuer,
        ClientIDList: options.audiences ?? ["sts.amazonaws.com"],
      }),
    );
  }
  await iam.send(
    new CreateRoleCommand({
      RoleName: "payments-api",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${hostPath}` },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
              StringEquals: {
                [`${hostPath}:sub`]: options.trustedSubject ?? subject,
                [`${hostPath}:aud`]: "sts.amazonaws.com",
              },
            },
          },
        ],
      }),
    }),
  );
}

/** The API server as it answers while signing with `key`. */
function runningCluster(key: ClusterKey): void {
  api.objects.clear();
  api.objects.set("/.well-known/openid-configuration", { issuer: issuer.issuer });
  api.objects.set("/openid/v1/jwks", buildJwks(key.keys, { emptyKidTwin: false }));
  api.objects.set("/api/v1/namespaces/payments/serviceaccounts/api", {
    metadata: {
      name: "api",
      namespace: "payments",
      uid: "1f0e",
      annotations: { "eks.amazonaws.com/role-arn": roleArn },
    },
  });
  api.objects.set("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
    items: [
      {
        metadata: { name: "pod-identity-webhook" },
        webhooks: [
          {
            name: "pod-identity-webhook.amazonaws.com",
            clientConfig: { service: { name: "pod-identity-webhook", namespace: "kube-system" } },
            rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
            sideEffects: "None",
            admissionReviewVersions: ["v1beta1"],
          },
        ],
      },
    ],
  });
  api.objects.set("/api/v1/namespaces/payments/pods", {
    items: [
      {
        metadata: { name: "api-1", creationTimestamp: "2026-02-02T00:00:00Z" },
        spec: {
          serviceAccountName: "api",
          containers: [
            {
              name: "app",
              env: [
                { name: "AWS_ROLE_ARN", value: roleArn },
                {
                  name: "AWS_WEB_IDENTITY_TOKEN_FILE",
                  value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
                },
              ],
            },
          ],
        },
        status: { phase: "Running" },
      },
    ],
  });
}

/** The doctor as a user runs it for payments/api: no role given, the annotation names it. */
const doctor = (key: ClusterKey = original): Promise<Diagnosis> =>
  diagnose({
    issuer: issuer.issuer,
    ca: issuer.caPem,
    keys: key.keys,
    signingKey: key.signingKey,
    serviceAccount: "payments/api",
    kubernetes: { kubeconfig },
    smokeTest: true,
    clients: { iam, sts },
  });

// STS's own words, as AWS documents them, written here apart from the doctor's copy (`STS_ERRORS`):
// a user searches for the message their pod logged, so the doctor must print exactly these.
const stsSays = {
  noProvider: (issuer: string) =>
    `InvalidIdentityToken: No OpenIDConnect provider found in your account for ${issuer}`,
  noKey:
    "InvalidIdentityToken: Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
  audience: "InvalidIdentityToken: Incorrect token audience",
  notAuthorized: "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity",
};

const failures = (diagnosis: Diagnosis) => diagnosis.checks.filter((check) => check.status === "fail");

beforeEach(() => healthyChain());

describe("the whole chain", () => {
  it("passes every check, and assumes the role the service account names", async () => {
    const diagnosis = await doctor();
    // Every check but the one for CloudFront, which does not serve this issuer.
    expect(diagnosis.checks.filter((check) => check.status !== "pass")).toEqual([
      expect.objectContaining({ id: "cloudfront-distribution", status: "skip", code: "SKIP_NOT_CLOUDFRONT" }),
    ]);
    expect(diagnosis.ok).toBe(true);
    expect(diagnosis.checks.find((check) => check.id === "smoke-assume-role")?.reason).toBe(
      `assumed arn:aws:sts::${account}:assumed-role/payments-api/irsa-anywhere-doctor`,
    );
  });
});

describe("STS's error catalogue: each message, one broken link", () => {
  const rows: Array<{
    sts: () => string;
    link: string;
    breakIt: () => Promise<ClusterKey | undefined>;
    failing: CheckId[];
  }> = [
    {
      sts: () => stsSays.noProvider(issuer.issuer),
      link: "no IAM OIDC provider for the issuer",
      breakIt: async () => {
        await healthyChain({ provider: false });
        return undefined;
      },
      failing: ["iam-oidc-provider"],
    },
    {
      sts: () => stsSays.noKey,
      link: "the cluster rotated its signing key and the new key was not published",
      breakIt: async () => {
        runningCluster(rotated);
        return rotated;
      },
      failing: ["cluster-key-published", "cluster-jwks", "smoke-token"],
    },
    {
      sts: () => stsSays.noKey,
      link: "the JWKS is not there",
      breakIt: async () => {
        issuer.routes.delete(issuer.jwksPath);
        return undefined;
      },
      failing: ["jwks-reachable", "smoke-token"],
    },
    {
      sts: () => stsSays.audience,
      link: "the IAM provider does not list sts.amazonaws.com",
      breakIt: async () => {
        await healthyChain({ audiences: ["sts.amazonaws.com.cn"] });
        return undefined;
      },
      failing: ["iam-provider-audience", "smoke-token"],
    },
    {
      sts: () => stsSays.notAuthorized,
      link: "the role trusts another service account",
      breakIt: async () => {
        await healthyChain({ trustedSubject: "system:serviceaccount:payments:web" });
        return undefined;
      },
      failing: ["role-trust-policy"],
    },
  ];

  it.each(rows)("$link", async ({ sts: message, breakIt, failing }) => {
    const key = await breakIt();
    const diagnosis = await doctor(key);

    expect(diagnosis.ok).toBe(false);
    expect(failures(diagnosis).map((check) => check.id)).toEqual(failing);
    for (const check of failures(diagnosis)) {
      expect(check.sts).toBe(message());
      expect(check.fix).toBeTruthy();
      expect(check.reason).not.toContain("\n");
    }
    // A token STS would refuse is never sent: moto, which accepts anything, would say it worked.
    expect(diagnosis.checks.find((check) => check.id === "smoke-assume-role")?.status).toBe("skip");
  });
});

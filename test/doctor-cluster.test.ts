// The cluster side of diagnose(): a fake Kubernetes API over TLS, reached through a kubeconfig the
// test writes, answering the paths the checks read (the API server's discovery document and
// JWKS, the service account, the webhook configurations, the pods), plus a real HTTPS issuer.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Check,
  type CheckCode,
  type CheckId,
  type DiagnoseOptions,
  type Diagnosis,
  diagnose,
  STS_ERRORS,
  signingKeyFromCluster,
} from "@irsa-anywhere/doctor";
import { buildJwks, type PublicSigningKey, publicKeysFromPem } from "@irsa-anywhere/keys";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";
import { type FakeKubernetes, startFakeKubernetes } from "./support/fake-kubernetes.js";
import { type HttpsIssuer, startHttpsIssuer } from "./support/https-issuer.js";
import { generateTestKey, pem } from "./support/keys.js";
import { freeLoopbackPort } from "./support/ports.js";
import { type CertificateAuthority, createCertificateAuthority } from "./support/tls.js";

const roleArn = "arn:aws:iam::111122223333:role/payments-api";
const annotatedAt = "2026-02-01T10:00:00Z";
const signingPair = generateTestKey({ type: "rsa", bits: 2048 });
const keys: PublicSigningKey[] = publicKeysFromPem(pem(signingPair.privateKey, "pkcs1"), "sa.key");
const newerKeys = publicKeysFromPem(
  pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"),
  "new.pub",
);

let ca: CertificateAuthority;
let api: FakeKubernetes;
let issuer: HttpsIssuer;
let dir: string;
let kubeconfig: string;
/** The same cluster and user, at an address where nothing listens. */
let downKubeconfig: string;
/** The same cluster, with a token the API server refuses. */
let strangerKubeconfig: string;

const paths = {
  discovery: "/.well-known/openid-configuration",
  jwks: "/openid/v1/jwks",
  serviceAccount: "/api/v1/namespaces/payments/serviceaccounts/api",
  webhooks: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
  pods: "/api/v1/namespaces/payments/pods",
};

const serviceAccount = (annotations: Record<string, string> = { "eks.amazonaws.com/role-arn": roleArn }) => ({
  kind: "ServiceAccount",
  apiVersion: "v1",
  metadata: {
    name: "api",
    namespace: "payments",
    uid: "5b0c0f9e-3a3c-4c1e-9d55-0f4f6b8d6c11",
    creationTimestamp: "2026-01-01T00:00:00Z",
    annotations,
    managedFields: [
      {
        manager: "kubectl-client-side-apply",
        operation: "Update",
        time: "2026-01-01T00:00:00Z",
        fieldsV1: { "f:metadata": { "f:labels": {} } },
      },
      {
        manager: "kubectl-annotate",
        operation: "Update",
        time: annotatedAt,
        fieldsV1: { "f:metadata": { "f:annotations": { ".": {}, "f:eks.amazonaws.com/role-arn": {} } } },
      },
    ],
  },
});

const mutatedEnv = [
  { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
  { name: "AWS_ROLE_ARN", value: roleArn },
  { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" },
];

const pod = (
  name: string,
  options: { createdAt?: string; env?: object[]; sa?: string; phase?: string; annotations?: object } = {},
) => ({
  metadata: {
    name,
    namespace: "payments",
    creationTimestamp: options.createdAt ?? "2026-02-02T00:00:00Z",
    ...(options.annotations ? { annotations: options.annotations } : {}),
  },
  spec: {
    serviceAccountName: options.sa ?? "api",
    containers: [{ name: "app", image: "app:1", env: options.env ?? mutatedEnv }],
  },
  status: { phase: options.phase ?? "Running" },
});

const webhookConfiguration = (
  rules = [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
) => ({
  kind: "MutatingWebhookConfigurationList",
  apiVersion: "admissionregistration.k8s.io/v1",
  items: [
    {
      metadata: { name: "cert-manager-webhook" },
      webhooks: [
        {
          name: "webhook.cert-manager.io",
          clientConfig: { service: { name: "cert-manager-webhook", namespace: "cert-manager" } },
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
        },
      ],
    },
    {
      metadata: { name: "pod-identity-webhook" },
      webhooks: [
        {
          name: "pod-identity-webhook.amazonaws.com",
          clientConfig: { service: { name: "pod-identity-webhook", namespace: "kube-system" } },
          rules,
          sideEffects: "None",
          admissionReviewVersions: ["v1beta1"],
        },
      ],
    },
  ],
});

function resetCluster(): void {
  api.objects.clear();
  api.forbidden.clear();
  api.seen.length = 0;
  api.failWith(undefined);
  api.objects.set(paths.discovery, { issuer: issuer.issuer, jwks_uri: `${api.url}${paths.jwks}` });
  api.objects.set(paths.jwks, buildJwks(keys, { emptyKidTwin: false }));
  api.objects.set(paths.serviceAccount, serviceAccount());
  api.objects.set(paths.webhooks, webhookConfiguration());
  api.objects.set(paths.pods, {
    kind: "PodList",
    apiVersion: "v1",
    items: [
      pod("api-7d9c-abcde"),
      pod("web-1", { sa: "web", env: [] }),
      pod("api-old-done", { phase: "Succeeded", env: [] }),
    ],
  });
}

beforeAll(async () => {
  ca = createCertificateAuthority();
  api = await startFakeKubernetes(ca);
  issuer = await startHttpsIssuer({ ca });
  issuer.publish(keys);
  dir = await mkdtemp(join(tmpdir(), "irsa-doctor-cluster-"));
  kubeconfig = join(dir, "kubeconfig.yaml");
  const down = `https://127.0.0.1:${await freeLoopbackPort()}`;
  await writeFile(kubeconfig, api.kubeconfig());
  downKubeconfig = join(dir, "down.yaml");
  await writeFile(downKubeconfig, api.kubeconfig().replace(api.url, down));
  strangerKubeconfig = join(dir, "stranger.yaml");
  await writeFile(strangerKubeconfig, api.kubeconfig().replace(api.token, "not-the-token"));
});
afterAll(async () => {
  await api?.close();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  issuer.publish(keys);
  issuer.seen.length = 0;
  resetCluster();
});

const run = (extra: Partial<DiagnoseOptions> = {}): Promise<Diagnosis> =>
  diagnose({
    issuer: issuer.issuer,
    ca: issuer.caPem,
    keys,
    serviceAccount: "payments/api",
    kubernetes: { kubeconfig },
    aws: false,
    ...extra,
  });

function check(diagnosis: Diagnosis, id: CheckId): Check {
  const found = diagnosis.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}
const clusterIds: CheckId[] = [
  "cluster-issuer",
  "cluster-jwks",
  "service-account",
  "pod-identity-webhook",
  "pods",
];

describe("irsa-anywhere doctor with a cluster that cannot be reached", () => {
  it("still checks what it can, and fails (exit 1) for the cluster it could not read", async () => {
    const caFile = join(dir, "issuer-ca.pem");
    await writeFile(caFile, issuer.caPem);
    const args = ["doctor", "--issuer", issuer.issuer, "--ca-file", caFile, "--cluster", "prod"];
    const result = await runCli([...args, "--kubeconfig", downKubeconfig, "--no-aws", "--json"], {
      isolated: true,
      env: { HOME: dir },
    });
    expect(result.code).toBe(1);
    const diagnosis = JSON.parse(result.stdout) as Diagnosis;
    expect(check(diagnosis, "cluster-key-published")).toMatchObject({
      status: "fail",
      code: "COULD_NOT_CHECK_KEYS",
      reason: expect.stringMatching(
        /^could not check: the cluster's keys could not be read: cannot read secret/,
      ),
    });
    expect(check(diagnosis, "retired-keys")).toMatchObject({ status: "warn", code: "NOT_CHECKED_KEYS" });
    expect(check(diagnosis, "cluster-issuer")).toMatchObject({
      status: "fail",
      code: "COULD_NOT_CHECK_CLUSTER_UNREACHABLE",
    });
    expect(check(diagnosis, "jwks-keys").status).toBe("pass");
    expect(diagnosis.ok).toBe(false);

    const text = await runCli([...args, "--kubeconfig", downKubeconfig, "--no-aws"], {
      isolated: true,
      env: { HOME: dir },
    });
    expect(text.code).toBe(1);
    expect(text.stdout).not.toMatch(/, 0 failed,/);
  });
});

describe("diagnose: the cluster side", () => {
  it("passes a cluster set up for IRSA, reading it with the kubeconfig's credentials", async () => {
    const diagnosis = await run();

    expect(Object.fromEntries(clusterIds.map((id) => [id, check(diagnosis, id).status]))).toEqual(
      Object.fromEntries(clusterIds.map((id) => [id, "pass"])),
    );
    expect(check(diagnosis, "cluster-issuer").reason).toBe(
      `kube-apiserver --service-account-issuer is ${issuer.issuer}`,
    );
    expect(check(diagnosis, "service-account").reason).toBe(`eks.amazonaws.com/role-arn: ${roleArn}`);
    expect(check(diagnosis, "pod-identity-webhook").reason).toBe(
      "MutatingWebhookConfiguration pod-identity-webhook (webhook pod-identity-webhook.amazonaws.com)",
    );
    expect(check(diagnosis, "pods").reason).toBe(
      `1 running pod has AWS_ROLE_ARN=${roleArn} and a web identity token`,
    );
    expect(diagnosis.ok).toBe(true);
    expect(new Set(api.seen.map((request) => request.authorization))).toEqual(
      new Set([`Bearer ${api.token}`]),
    );
    expect(api.seen.find((request) => request.path === paths.pods)?.query).toBe(
      "fieldSelector=spec.serviceAccountName%3Dapi",
    );
  });

  it("takes the role from the service account's annotation when none is given", async () => {
    const withRole = await run({ roleArn: undefined });
    // With AWS off, the trust check stops at that, not at a missing role: the annotation named it.
    expect(check(withRole, "role-trust-policy")).toMatchObject({
      code: "SKIP_AWS_OFF",
      reason: "AWS checks are off",
    });
    api.objects.set(paths.serviceAccount, serviceAccount({}));
    // A kubeconfig was given: the reason is what the service account lacks, not a missing kubeconfig.
    const unannotated = await run({ roleArn: undefined });
    expect(check(unannotated, "role-trust-policy").code).toBe("SKIP_NO_ROLE");
    expect(check(unannotated, "role-trust-policy").reason).toBe(
      "no role: payments/api has no eks.amazonaws.com/role-arn annotation, so the webhook gives its pods no role; add --role-arn ARN",
    );
    api.objects.delete(paths.serviceAccount);
    const missing = await run({ roleArn: undefined });
    expect(check(missing, "role-trust-policy").reason).toBe(
      "no role: there is no service account payments/api in the cluster; add --role-arn ARN",
    );
    expect(
      check(await run({ roleArn: undefined, kubernetes: undefined }), "role-trust-policy").reason,
    ).toMatch(/^no role given: add --role-arn ARN \(or a kubeconfig/);
  });

  it("skips the cluster side without a kubeconfig, and the service account without --service-account", async () => {
    const without = await run({ kubernetes: undefined });
    for (const id of clusterIds) {
      expect(check(without, id)).toMatchObject({ status: "skip", code: "SKIP_NO_CLUSTER" });
    }
    expect(check(without, "pods").reason).toMatch(/add --kubeconfig/);
    const noAccount = await run({ serviceAccount: undefined });
    expect(check(noAccount, "cluster-issuer").status).toBe("pass");
    expect(check(noAccount, "service-account")).toMatchObject({
      status: "skip",
      code: "SKIP_NO_SERVICE_ACCOUNT",
      reason: expect.stringMatching(/add --service-account NAMESPACE\/NAME/),
    });
  });

  it("fails an API server that issues tokens for another issuer, with the STS error its tokens get", async () => {
    api.objects.set(paths.discovery, { issuer: "https://kubernetes.default.svc.cluster.local" });
    const diagnosis = await run();
    expect(check(diagnosis, "cluster-issuer")).toMatchObject({
      status: "fail",
      code: "ERR_CLUSTER_ISSUER_MISMATCH",
      reason: `the cluster's tokens carry "iss": "https://kubernetes.default.svc.cluster.local" (kube-apiserver --service-account-issuer), not ${issuer.issuer}`,
      fix: expect.stringContaining(`spec.podIamConfig.serviceAccountIssuer: ${issuer.issuer}`),
      sts: "InvalidIdentityToken: No OpenIDConnect provider found in your account for https://kubernetes.default.svc.cluster.local",
    });
  });

  it("fails when the API server verifies with a key that is not published", async () => {
    api.objects.set(paths.jwks, buildJwks([...newerKeys, ...keys], { emptyKidTwin: false }));
    const diagnosis = await run();
    expect(check(diagnosis, "cluster-jwks")).toMatchObject({
      status: "fail",
      code: "ERR_CLUSTER_KEY_UNPUBLISHED",
      reason: expect.stringContaining(
        `verifies with key ${newerKeys[0]?.kid}, which the published JWKS lacks`,
      ),
      sts: STS_ERRORS.noKey,
    });
  });

  // The reason only where the code does not tell the cases apart: which annotation the webhook ignores.
  const serviceAccountCases: Array<
    [string, () => void, "warn" | "fail", CheckCode, RegExp | undefined, RegExp?]
  > = [
    [
      "no such service account",
      () => api.objects.delete(paths.serviceAccount),
      "fail",
      "ERR_SERVICE_ACCOUNT_MISSING",
      undefined,
      /kubectl create serviceaccount -n payments api/,
    ],
    [
      "no role annotation",
      () => api.objects.set(paths.serviceAccount, serviceAccount({})),
      "fail",
      "ERR_ROLE_ANNOTATION_MISSING",
      undefined,
      /kubectl annotate serviceaccount -n payments api --overwrite eks\.amazonaws\.com\/role-arn=/,
    ],
    [
      "a role annotation that is not an ARN",
      () =>
        api.objects.set(
          paths.serviceAccount,
          serviceAccount({ "eks.amazonaws.com/role-arn": "payments-api" }),
        ),
      "fail",
      "ERR_ROLE_ANNOTATION_INVALID",
      undefined,
    ],
    [
      "an invalid sts-regional-endpoints",
      () =>
        api.objects.set(
          paths.serviceAccount,
          serviceAccount({
            "eks.amazonaws.com/role-arn": roleArn,
            "eks.amazonaws.com/sts-regional-endpoints": "yes",
          }),
        ),
      "warn",
      "WARN_ANNOTATION_IGNORED",
      /sts-regional-endpoints is "yes", which the webhook ignores/,
    ],
    [
      "a token expiration below the webhook's minimum",
      () =>
        api.objects.set(
          paths.serviceAccount,
          serviceAccount({
            "eks.amazonaws.com/role-arn": roleArn,
            "eks.amazonaws.com/token-expiration": "600",
          }),
        ),
      "warn",
      "WARN_ANNOTATION_IGNORED",
      /token-expiration is 600 s, which the webhook raises to 3600/,
    ],
    [
      "a token expiration that is not a number",
      () =>
        api.objects.set(
          paths.serviceAccount,
          serviceAccount({
            "eks.amazonaws.com/role-arn": roleArn,
            "eks.amazonaws.com/token-expiration": "1h",
          }),
        ),
      "warn",
      "WARN_ANNOTATION_IGNORED",
      /token-expiration is "1h", which the webhook ignores/,
    ],
  ];
  it.each(serviceAccountCases)("service account: %s", async (_name, breakIt, status, code, reason, fix) => {
    breakIt();
    const diagnosis = await run();
    const sa = check(diagnosis, "service-account");
    expect(sa).toMatchObject({ status, code });
    if (reason) expect(sa.reason).toMatch(reason);
    if (fix) expect(sa.fix).toMatch(fix);
  });

  it("fails a service account annotated with another role than --role-arn", async () => {
    const diagnosis = await run({ roleArn: "arn:aws:iam::111122223333:role/other" });
    expect(check(diagnosis, "service-account")).toMatchObject({
      status: "fail",
      code: "ERR_ROLE_ANNOTATION_MISMATCH",
      reason: `payments/api is annotated with role ${roleArn}, not arn:aws:iam::111122223333:role/other: its pods assume the annotated one`,
      fix: expect.stringMatching(
        /^irsa-anywhere role create --role-name other --issuer \S+ --service-account payments\/api --overwrite$/,
      ),
    });
  });

  it("fails when no pod identity webhook is registered", async () => {
    api.objects.set(paths.webhooks, { kind: "MutatingWebhookConfigurationList", items: [] });
    const diagnosis = await run();
    expect(check(diagnosis, "pod-identity-webhook")).toMatchObject({
      status: "fail",
      code: "ERR_WEBHOOK_MISSING",
      fix: expect.stringMatching(/install the pod identity webhook/),
    });
  });

  it("warns about a webhook that does not see pods being created", async () => {
    api.objects.set(
      paths.webhooks,
      webhookConfiguration([
        { operations: ["UPDATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] },
      ]),
    );
    expect(check(await run(), "pod-identity-webhook")).toMatchObject({
      status: "warn",
      code: "WARN_WEBHOOK_NOT_FOR_PODS",
    });
  });

  it("names the pods created before the annotation as needing a restart", async () => {
    api.objects.set(paths.pods, {
      kind: "PodList",
      items: [pod("api-new"), pod("api-old", { createdAt: "2026-01-15T00:00:00Z", env: [] })],
    });
    const diagnosis = await run();
    expect(check(diagnosis, "pods")).toMatchObject({
      status: "fail",
      code: "ERR_PODS_STALE",
      reason: `1 of 2 running pods of system:serviceaccount:payments:api need a restart: api-old (created 2026-01-15T00:00:00.000Z, before the annotation (${new Date(annotatedAt).toISOString()}))`,
      fix: "the webhook changes only new pods: kubectl delete pod -n payments api-old (or kubectl rollout restart their deployment)",
    });
  });

  it.each([
    [
      "a pod the webhook did not change",
      pod("api-x", { env: [] }),
      /api-x \(container app has no AWS_ROLE_ARN \/ AWS_WEB_IDENTITY_TOKEN_FILE: the webhook did not change it\)/,
    ],
    [
      "a pod with the role of an earlier annotation",
      pod("api-y", {
        env: [{ name: "AWS_ROLE_ARN", value: "arn:aws:iam::111122223333:role/old" }, ...mutatedEnv.slice(2)],
      }),
      /api-y \(container app has AWS_ROLE_ARN=arn:aws:iam::111122223333:role\/old, from before the annotation changed\)/,
    ],
  ])("fails %s", async (_name, item, reason) => {
    api.objects.set(paths.pods, { kind: "PodList", items: [item] });
    const pods = check(await run(), "pods");
    expect(pods.code).toBe("ERR_PODS_STALE");
    // Which pod and why is the point of the message.
    expect(pods.reason).toMatch(reason);
  });

  it("expects AWS_STS_REGIONAL_ENDPOINTS=regional when the annotation asks for it, and skips excluded containers", async () => {
    api.objects.set(
      paths.serviceAccount,
      serviceAccount({
        "eks.amazonaws.com/role-arn": roleArn,
        "eks.amazonaws.com/sts-regional-endpoints": "true",
      }),
    );
    api.objects.set(paths.pods, { kind: "PodList", items: [pod("api-z", { env: mutatedEnv.slice(1) })] });
    expect(check(await run(), "pods").reason).toMatch(/AWS_STS_REGIONAL_ENDPOINTS=\(unset\), not regional/);

    api.objects.set(paths.pods, {
      kind: "PodList",
      items: [pod("api-z", { env: [], annotations: { "eks.amazonaws.com/skip-containers": "app" } })],
    });
    expect(check(await run(), "pods").status).toBe("pass");
  });

  it("passes when no pod runs yet", async () => {
    api.objects.set(paths.pods, { kind: "PodList", items: [] });
    expect(check(await run(), "pods")).toMatchObject({
      code: "OK",
      reason: expect.stringMatching(/no running pod uses payments\/api/),
    });
  });

  it("reports what this identity may not read as not checked, and carries on", async () => {
    api.forbidden.add(paths.pods);
    api.forbidden.add(paths.discovery);
    const diagnosis = await run();
    expect(check(diagnosis, "pods")).toMatchObject({ status: "warn", code: "NOT_CHECKED_CLUSTER_FORBIDDEN" });
    expect(check(diagnosis, "cluster-issuer").fix).toMatch(/system:service-account-issuer-discovery/);
    expect(check(diagnosis, "service-account").status).toBe("pass");
  });

  it("fails the checks of a cluster it was asked to read and cannot reach", async () => {
    const diagnosis = await run({ kubernetes: { kubeconfig: downKubeconfig }, roleArn: undefined });
    for (const id of ["cluster-issuer", "service-account", "pod-identity-webhook"] as const) {
      expect(check(diagnosis, id)).toMatchObject({
        status: "fail",
        code: "COULD_NOT_CHECK_CLUSTER_UNREACHABLE",
      });
    }
    expect(check(diagnosis, "pods")).toMatchObject({
      code: "SKIP_NO_SERVICE_ACCOUNT_READ",
      reason: "the service account could not be read (see service-account)",
    });
    expect(check(diagnosis, "role-trust-policy").reason).toMatch(
      /^no role: could not check: cannot read service account payments\/api from .*; add --role-arn ARN$/,
    );
    expect(diagnosis.ok).toBe(false);
  });

  it("fails a service account it was asked for and may not read", async () => {
    api.forbidden.add(paths.serviceAccount);
    const diagnosis = await run();
    expect(check(diagnosis, "service-account")).toMatchObject({
      status: "fail",
      code: "COULD_NOT_CHECK_CLUSTER_FORBIDDEN",
    });
    expect(diagnosis.ok).toBe(false);
  });

  it("reports a token the API server refuses as not checked", async () => {
    const diagnosis = await run({ kubernetes: { kubeconfig: strangerKubeconfig } });
    expect(check(diagnosis, "cluster-issuer")).toMatchObject({
      status: "warn",
      code: "NOT_CHECKED_CLUSTER_FORBIDDEN",
      reason: expect.stringMatching(/HTTP 401/),
    });
  });

  it.each([
    ["a kubeconfig that does not exist", { kubeconfig: join("/nonexistent", "kubeconfig") }],
    ["a context that is not in it", { kubeconfig: "", context: "gamma" }],
  ])("refuses %s before any request", async (_name, kubernetes) => {
    const options = { ...kubernetes, kubeconfig: kubernetes.kubeconfig || kubeconfig };
    await expect(run({ kubernetes: options })).rejects.toMatchObject({
      code: "ERR_KUBECONFIG_INVALID",
      isInputError: true,
    });
    expect(api.seen).toEqual([]);
    expect(issuer.seen).toEqual([]);
  });
});

describe("signingKeyFromCluster", () => {
  it("reads the private signing key of <cluster>-sa", async () => {
    api.setSecret("eksa-system", "prod-sa", {
      "tls.crt": pem(signingPair.publicKey, "spki"),
      "tls.key": pem(signingPair.privateKey, "pkcs1"),
    });
    const signingKey = await signingKeyFromCluster({ cluster: "prod", kubeconfig });
    expect(signingKey.kid).toBe(keys[0]?.kid);
    expect(signingKey.alg).toBe("RS256");
    expect(signingKey.privateKey.type).toBe("private");
  });

  it.each([
    ["the secret does not exist", "absent", () => undefined, "ERR_CLUSTER_SECRET_NOT_FOUND"],
    [
      "the identity may not read it",
      "locked",
      () => api.forbidden.add("/api/v1/namespaces/eksa-system/secrets/locked-sa"),
      "ERR_CLUSTER_FORBIDDEN",
    ],
    [
      "it holds no private key",
      "public",
      () => api.setSecret("eksa-system", "public-sa", { "tls.crt": pem(signingPair.publicKey, "spki") }),
      "ERR_SIGNING_KEY_MISSING",
    ],
  ])("fails when %s, without key material in the message", async (_name, cluster, arrange, code) => {
    arrange();
    const error = await signingKeyFromCluster({ cluster, kubeconfig }).then(
      () => undefined,
      (reason: unknown) => reason as { code: string; message: string },
    );
    expect(error?.code).toBe(code);
    expect(error?.message).not.toMatch(/BEGIN|PRIVATE KEY|\n/);
  });
});

// ensureServiceAccountRole, listServiceAccountRoles and removeServiceAccountRole against moto's
// IAM (through a recording proxy, to see every request) and the local Kubernetes API test server
// (which validates every object it is sent with kubernetes-models): the role, its trust policy,
// policies and tags, the service accounts' annotations, idempotence, dry runs and refusals.
import {
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
} from "@aws-sdk/client-iam";
import { connectServiceAccounts, type ServiceAccountClient } from "@irsa-anywhere/kube";
import {
  ensureServiceAccountRole,
  listServiceAccountRoles,
  type RoleError,
  removeServiceAccountRole,
  type ServiceAccountRoleOptions,
} from "@irsa-anywhere/role";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FakeKubernetes } from "./support/fake-kubernetes.js";
import { awsTestClientConfig } from "./support/moto.js";
import type { RecordingProxy } from "./support/recording-proxy.js";
import { type RoleWorld, startRoleWorld } from "./support/role-world.js";
import { decisionFor, lostStatements } from "./support/trust-policy-coverage.js";

const issuer = "https://oidc.example.com/prod";
const hostPath = "oidc.example.com/prod";
const account = "123456789012";
const providerArn = `arn:aws:iam::${account}:oidc-provider/${hostPath}`;
const roleArn = `arn:aws:iam::${account}:role/payments-api`;
const at = { providerArn, hostPath };
const saPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${name}`;

let world: RoleWorld;
let iam: IAMClient;
let direct: IAMClient;
let kube: FakeKubernetes;
let proxy: RecordingProxy;
let cluster: ServiceAccountClient;

beforeAll(async () => {
  world = await startRoleWorld(issuer);
  ({ direct, kube, proxy } = world);
  iam = new IAMClient(awsTestClientConfig(proxy.url));
  cluster = await connectServiceAccounts({ kubeconfig: world.kubeconfig });
});
afterAll(async () => {
  iam?.destroy();
  await world?.close();
});
beforeEach(() => world.reset());

const ensure = (options: Partial<ServiceAccountRoleOptions> = {}) =>
  ensureServiceAccountRole({
    issuer,
    roleName: "payments-api",
    serviceAccounts: ["payments/api"],
    clients: { iam, kubernetes: cluster },
    ...options,
  });

const trustPolicyOf = async (name = "payments-api") =>
  JSON.parse(
    decodeURIComponent(
      (await direct.send(new GetRoleCommand({ RoleName: name }))).Role?.AssumeRolePolicyDocument ?? "",
    ),
  );
const iamWrites = () => world.iamWrites();
const kubeWrites = () => world.kubeWrites();
const refusal = (error: unknown) => {
  const { code, fault, message } = error as RoleError;
  return { code, fault, oneLine: !message.includes("\n") };
};

describe("ensureServiceAccountRole", () => {
  it("creates the role, its policies and tags, and the annotated service account; a neighbour stays out", async () => {
    const policy = await direct.send(
      new CreatePolicyCommand({
        PolicyName: "payments-read",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
        }),
      }),
    );
    const inline = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" }],
    };

    const outcome = await ensure({
      attachPolicyArns: [policy.Policy?.Arn as string],
      inlinePolicy: JSON.stringify(inline),
      maxSessionDurationSeconds: 7200,
      tokenExpirationSeconds: 86400,
    });

    expect(outcome).toMatchObject({ roleArn, created: true, providerArn });
    const trust = await trustPolicyOf();
    expect(decisionFor(trust, at, "payments/api")).toBe("allowed");
    expect(decisionFor(trust, at, "payments/neighbour")).toBe("denied");
    expect(decisionFor(trust, at, "billing/api")).toBe("denied");
    const role = (await direct.send(new GetRoleCommand({ RoleName: "payments-api" }))).Role;
    expect(role?.MaxSessionDuration).toBe(7200);
    expect(role?.Tags).toEqual(
      expect.arrayContaining([
        { Key: "managed-by", Value: "irsa-anywhere" },
        { Key: "irsa-anywhere/issuers", Value: hostPath },
        { Key: "irsa-anywhere/service-accounts", Value: "payments/api" },
      ]),
    );
    const attached = await direct.send(new ListAttachedRolePoliciesCommand({ RoleName: "payments-api" }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([policy.Policy?.Arn]);
    const put = await direct.send(
      new GetRolePolicyCommand({ RoleName: "payments-api", PolicyName: "irsa-anywhere" }),
    );
    expect(JSON.parse(decodeURIComponent(put.PolicyDocument ?? ""))).toEqual(inline);
    expect(kube.objects.get(saPath("payments", "api"))).toMatchObject({
      metadata: {
        annotations: {
          "eks.amazonaws.com/role-arn": roleArn,
          "eks.amazonaws.com/sts-regional-endpoints": "true",
          "eks.amazonaws.com/token-expiration": "86400",
        },
      },
    });
    expect(
      (kube.objects.get(saPath("payments", "api")) as { metadata: { annotations: object } }).metadata
        .annotations,
    ).not.toHaveProperty(["eks.amazonaws.com/audience"]);
  });

  it("makes no write, IAM or Kubernetes, on a second identical run", async () => {
    const options = {
      attachPolicyArns: [],
      inlinePolicy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:ListBucket", Resource: "*" }],
      },
      namespaceWide: ["payments"],
    };
    await ensure({ ...options, serviceAccounts: ["payments/api", "payments/worker"] });
    proxy.clear();
    kube.requests.length = 0;

    const again = await ensure({ ...options, serviceAccounts: ["payments/api", "payments/worker"] });

    expect(again.changes).toEqual([]);
    expect(iamWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
    // --namespace-wide payments: any service account of payments, and none of a neighbouring namespace.
    const trust = await trustPolicyOf();
    expect(decisionFor(trust, at, "payments/batch")).toBe("allowed");
    expect(decisionFor(trust, at, "billing/api")).toBe("denied");
    expect(decisionFor(trust, at, "payments/api", "vault")).toBe("denied");
  });

  it("keeps the other annotations and labels of an existing service account (one JSON merge patch)", async () => {
    kube.objects.set(saPath("payments", "api"), {
      metadata: {
        name: "api",
        namespace: "payments",
        labels: { app: "api" },
        annotations: { "team.example.com/owner": "payments", "eks.amazonaws.com/audience": "old" },
      },
    });

    await ensure();

    expect(kubeWrites().map((r) => [r.method, r.path])).toEqual([["PATCH", saPath("payments", "api")]]);
    expect(kubeWrites()[0]?.body).toEqual({
      metadata: {
        annotations: {
          "eks.amazonaws.com/role-arn": roleArn,
          "eks.amazonaws.com/sts-regional-endpoints": "true",
          "eks.amazonaws.com/audience": null,
        },
      },
    });
    expect(kube.objects.get(saPath("payments", "api"))).toMatchObject({
      metadata: { labels: { app: "api" }, annotations: { "team.example.com/owner": "payments" } },
    });
  });

  it("refuses a service account that names another role unless --overwrite, showing both ARNs", async () => {
    const other = `arn:aws:iam::${account}:role/legacy`;
    kube.objects.set(saPath("payments", "api"), {
      metadata: { name: "api", namespace: "payments", annotations: { "eks.amazonaws.com/role-arn": other } },
    });

    const error = await ensure().catch((e: unknown) => e);

    expect(refusal(error)).toEqual({ code: "ERR_ANNOTATION_CONFLICT", fault: "input", oneLine: true });
    expect((error as Error).message).toContain(other);
    expect((error as Error).message).toContain(roleArn);
    expect(iamWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);

    await ensure({ overwrite: true });
    expect(kube.objects.get(saPath("payments", "api"))).toMatchObject({
      metadata: { annotations: { "eks.amazonaws.com/role-arn": roleArn } },
    });
  });

  it("--dry-run reads, shows the trust policy and annotation diffs, and writes nothing", async () => {
    const outcome = await ensure({ dryRun: true, audience: "sts.amazonaws.com" });

    expect(outcome.dryRun).toBe(true);
    expect(outcome.changes.map((c) => c.target)).toEqual(["role", "service-account"]);
    expect(outcome.trustPolicy.diff).toContain(
      `+           "${hostPath}:sub": "system:serviceaccount:payments:api",`,
    );
    expect(outcome.serviceAccounts[0]?.diff).toEqual([
      `+ eks.amazonaws.com/role-arn: ${roleArn}`,
      "+ eks.amazonaws.com/sts-regional-endpoints: true",
    ]);
    expect(iamWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
  });

  it("with roleOnly, leaves the cluster alone and returns the annotations to add", async () => {
    await direct.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
    await direct.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: ["vault"] }));
    const outcome = await ensure({ roleOnly: true, audience: "vault", clients: { iam } });

    expect(outcome.annotations).toEqual({
      "eks.amazonaws.com/role-arn": roleArn,
      "eks.amazonaws.com/audience": "vault",
      "eks.amazonaws.com/sts-regional-endpoints": "true",
    });
    expect(kube.requests).toEqual([]);
  });

  it("stops before any write when the cluster refuses to be read", async () => {
    kube.forbidden.add(saPath("payments", "api"));

    const error = await ensure().catch((e: unknown) => e);

    expect(error).toMatchObject({ code: "ERR_CLUSTER_FORBIDDEN", fault: "environment" });
    expect((error as Error).message).toMatch(
      /refused to let this identity get serviceaccount payments\/api \(HTTP 403\)/,
    );
    expect(iamWrites()).toEqual([]);
    expect(kubeWrites()).toEqual([]);
  });

  it("says what was done when AWS fails after the role was created, and a re-run finishes the job", async () => {
    const policy = await direct.send(
      new CreatePolicyCommand({
        PolicyName: "payments-read",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
        }),
      }),
    );
    const attachPolicyArns = [policy.Policy?.Arn as string];
    proxy.failNext(1, {
      status: 403,
      match: (request) => request.body.startsWith("Action=AttachRolePolicy"),
    });

    const error = await ensure({ attachPolicyArns }).catch((e: unknown) => e);

    expect(refusal(error)).toEqual({ code: "ERR_ROLE_INCOMPLETE", fault: "environment", oneLine: true });
    expect((error as Error).message).toMatch(
      /^created role payments-api; then: .*iam:AttachRolePolicy.*; once that is fixed, the same command finishes the job$/,
    );
    expect(kubeWrites()).toEqual([]);
    const rerun = await ensure({ attachPolicyArns });
    expect(rerun.changes.map((c) => c.target)).toEqual(["policy", "service-account"]);
  });

  it("says what was done, and that a re-run finishes the job, when the role was written but the cluster failed", async () => {
    // Reads succeed; the first write to the cluster fails as an overloaded API server does.
    const failing: ServiceAccountClient = {
      ...cluster,
      server: cluster.server,
      createServiceAccount: async () => {
        throw new Error("the server is currently unable to handle the request");
      },
    };
    const error = await ensure({ clients: { iam, kubernetes: failing } }).catch((e: unknown) => e);

    expect(refusal(error)).toEqual({
      code: "ERR_SERVICE_ACCOUNT_NOT_ANNOTATED",
      fault: "environment",
      oneLine: true,
    });
    expect((error as Error).message).toMatch(
      /^created role payments-api, but service account payments\/api could not be created: .*; run the same command again to finish the job$/,
    );

    const rerun = await ensure();
    expect(rerun.changes.map((c) => c.target)).toEqual(["service-account"]);
    expect(kube.objects.get(saPath("payments", "api"))).toBeDefined();
  });
});

/** Existing trust policies as each tool writes them, for this issuer's provider (`P`) and payments/web. */
const P = providerArn;
const webSub = "system:serviceaccount:payments:web";
const existing: Array<{ by: string; policy: object; outcome: "merged" | "ERR_TRUST_POLICY_TOO_WIDE" }> = [
  {
    by: "hand: an EC2 service principal and MFA-gated admins",
    policy: {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        {
          Sid: "BreakGlass",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${account}:root` },
          Action: "sts:AssumeRole",
          Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
        },
      ],
    },
    outcome: "merged",
  },
  {
    by: "eksctl create iamserviceaccount",
    policy: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: P },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { [`${hostPath}:aud`]: "sts.amazonaws.com", [`${hostPath}:sub`]: webSub },
          },
        },
      ],
    },
    outcome: "merged",
  },
  {
    by: "Terraform's iam-role-for-service-accounts-eks module",
    policy: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "",
          Effect: "Allow",
          Principal: { Federated: P },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { [`${hostPath}:sub`]: [webSub], [`${hostPath}:aud`]: ["sts.amazonaws.com"] },
          },
        },
      ],
    },
    outcome: "merged",
  },
  {
    // The web identity wizard checks the audience only: every service account of the cluster.
    by: "the AWS console's web identity wizard",
    policy: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Statement1",
          Effect: "Allow",
          Principal: { Federated: P },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: { StringEquals: { [`${hostPath}:aud`]: "sts.amazonaws.com" } },
        },
      ],
    },
    outcome: "ERR_TRUST_POLICY_TOO_WIDE",
  },
  {
    by: "hand, with a namespace wildcard",
    policy: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: P },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { [`${hostPath}:aud`]: "sts.amazonaws.com" },
            StringLike: { [`${hostPath}:sub`]: "system:serviceaccount:payments:*" },
          },
        },
      ],
    },
    outcome: "ERR_TRUST_POLICY_TOO_WIDE",
  },
];

describe("role create over a role that exists", () => {
  it.each(existing)(
    "merges into a trust policy written by $by, or refuses it, losing nothing",
    async ({ policy, outcome }) => {
      await direct.send(
        new CreateRoleCommand({ RoleName: "payments-api", AssumeRolePolicyDocument: JSON.stringify(policy) }),
      );
      proxy.clear();

      const result = await ensure().then(
        () => "merged",
        (error: RoleError) => error.code,
      );

      expect(result).toBe(outcome);
      const after = await trustPolicyOf();
      expect(lostStatements(policy, after)).toEqual([]);
      if (outcome === "merged") {
        expect(decisionFor(after, at, "payments/api")).toBe("allowed");
        expect(decisionFor(after, at, "payments/neighbour")).toBe("denied");
        // Into the statement for the same provider and audience, when there is one; no near-copy.
        const federated = after.Statement.filter(
          (s: { Principal: { Federated?: string } }) => s.Principal.Federated,
        );
        expect(federated).toHaveLength(1);
        // Not created by this tool: no managed-by tag, so that role delete never deletes it.
        const role = (await direct.send(new GetRoleCommand({ RoleName: "payments-api" }))).Role;
        expect(role?.Tags?.map((t) => t.Key)).not.toContain("managed-by");
      } else {
        expect(after).toEqual(policy);
        expect(iamWrites()).toEqual([]);
        expect(kubeWrites()).toEqual([]);
      }
    },
  );
});

describe("role create over a role with a path", () => {
  it("annotates the service account with the role's ARN as IAM has it, path included", async () => {
    await direct.send(
      new CreateRoleCommand({
        RoleName: "payments-api",
        Path: "/apps/payments/",
        AssumeRolePolicyDocument: JSON.stringify(existing[0]?.policy),
      }),
    );

    const outcome = await ensure();

    const withPath = `arn:aws:iam::${account}:role/apps/payments/payments-api`;
    expect(outcome.roleArn).toBe(withPath);
    expect(kube.objects.get(saPath("payments", "api"))).toMatchObject({
      metadata: { annotations: { "eks.amazonaws.com/role-arn": withPath } },
    });
  });
});

describe("listServiceAccountRoles and removeServiceAccountRole", () => {
  it("lists the roles from their trust policies, with each service account's state, and deletes a role it made once empty", async () => {
    await ensure({ serviceAccounts: ["payments/api", "payments/worker"] });
    // payments/worker's annotation is taken off behind our back; a role made by hand trusts payments/web.
    kube.objects.set(saPath("payments", "worker"), { metadata: { name: "worker", namespace: "payments" } });
    await direct.send(
      new CreateRoleCommand({
        RoleName: "web",
        AssumeRolePolicyDocument: JSON.stringify(existing[1]?.policy),
      }),
    );

    const roles = await listServiceAccountRoles({ issuer, clients: { iam, kubernetes: cluster } });

    expect(roles).toEqual([
      {
        roleName: "payments-api",
        roleArn,
        managed: true,
        serviceAccounts: [
          {
            subject: "system:serviceaccount:payments:api",
            serviceAccount: "payments/api",
            exists: true,
            annotated: true,
          },
          {
            subject: "system:serviceaccount:payments:worker",
            serviceAccount: "payments/worker",
            exists: true,
            annotated: false,
          },
        ],
      },
      {
        roleName: "web",
        roleArn: `arn:aws:iam::${account}:role/web`,
        managed: false,
        serviceAccounts: [
          { subject: webSub, serviceAccount: "payments/web", exists: false, annotated: false },
        ],
      },
    ]);

    const first = await removeServiceAccountRole({
      issuer,
      roleName: "payments-api",
      serviceAccount: "payments/api",
      clients: { iam, kubernetes: cluster },
    });
    expect(first).toMatchObject({ roleDeleted: false, left: ["system:serviceaccount:payments:worker"] });
    const trust = await trustPolicyOf();
    expect(decisionFor(trust, at, "payments/api")).toBe("denied");
    expect(decisionFor(trust, at, "payments/worker")).toBe("allowed");
    expect(
      (kube.objects.get(saPath("payments", "api")) as { metadata: { annotations?: object } }).metadata
        .annotations ?? {},
    ).toEqual({});

    const dry = await removeServiceAccountRole({
      issuer,
      roleName: "payments-api",
      serviceAccount: "payments/worker",
      dryRun: true,
      clients: { iam, kubernetes: cluster },
    });
    expect(dry).toMatchObject({ roleDeleted: true, dryRun: true });
    expect(await trustPolicyOf()).toEqual(trust);

    await removeServiceAccountRole({
      issuer,
      roleName: "payments-api",
      serviceAccount: "payments/worker",
      clients: { iam, kubernetes: cluster },
    });
    const gone = await direct
      .send(new GetRoleCommand({ RoleName: "payments-api" }))
      .catch((e: Error) => e.name);
    expect(gone).toBe("NoSuchEntityException");
  });

  it("keeps a role it did not make, saying what is left", async () => {
    await direct.send(
      new CreateRoleCommand({
        RoleName: "web",
        AssumeRolePolicyDocument: JSON.stringify(existing[0]?.policy),
      }),
    );
    await ensure({ roleName: "web", roleOnly: true, clients: { iam } });

    const outcome = await removeServiceAccountRole({
      issuer,
      roleName: "web",
      serviceAccount: "payments/api",
      roleOnly: true,
      clients: { iam },
    });

    expect(outcome).toMatchObject({ roleDeleted: false, left: ["statements for other principals"] });
    expect(lostStatements(existing[0]?.policy, await trustPolicyOf("web"))).toEqual([]);
  });
});

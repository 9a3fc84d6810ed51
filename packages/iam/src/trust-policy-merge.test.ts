import { describe, expect, it } from "vitest";
import { evaluateTrustPolicy, type IamError, mergeTrustPolicy } from "./index.js";

const issuer = "https://oidc.example.com/prod";
const hostPath = "oidc.example.com/prod";
const providerArn = `arn:aws:iam::111122223333:oidc-provider/${hostPath}`;
const eksProviderArn =
  "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const eksHostPath = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const api = "system:serviceaccount:payments:api";
const web = "system:serviceaccount:payments:web";
const web_identity = "sts:AssumeRoleWithWebIdentity";

const policyOf = (...statements: object[]) => ({ Version: "2012-10-17", Statement: statements });
const lets = (
  policy: unknown,
  subject: string,
  provider = providerArn,
  host = hostPath,
  audience = "sts.amazonaws.com",
) => evaluateTrustPolicy(policy, { providerArn: provider, issuerHostPath: host, subject, audience }).decision;

/** What eksctl create iamserviceaccount writes. */
const eksctl = (provider: string, host: string, subject: string) => ({
  Effect: "Allow",
  Principal: { Federated: provider },
  Action: web_identity,
  Condition: { StringEquals: { [`${host}:sub`]: subject, [`${host}:aud`]: "sts.amazonaws.com" } },
});

/** What Terraform's iam-role-for-service-accounts-eks module renders (aws_iam_policy_document). */
const terraform = (test: "StringEquals" | "StringLike", subjects: string[]) => ({
  Sid: "",
  Effect: "Allow",
  Principal: { Federated: providerArn },
  Action: web_identity,
  Condition: { [test]: { [`${hostPath}:sub`]: subjects, [`${hostPath}:aud`]: ["sts.amazonaws.com"] } },
});

/** What the AWS console's "Web identity" trusted-entity wizard writes for an OIDC provider. */
const consoleWizard = {
  Sid: "Statement1",
  Effect: "Allow",
  Principal: { Federated: providerArn },
  Action: web_identity,
  Condition: { StringEquals: { [`${hostPath}:aud`]: "sts.amazonaws.com" } },
};

const ec2 = { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" };
const admins = {
  Sid: "BreakGlass",
  Effect: "Allow",
  Principal: { AWS: ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:role/admin"] },
  Action: ["sts:AssumeRole", "sts:TagSession"],
  Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
};

interface Case {
  name: string;
  policy: { Version: string; Statement: object[] };
  /** The index of the statement the service account joins, or "new" for a statement of its own. */
  joins: number | "new";
  /** Web identities the old policy let in, which the merged one must still let in. */
  kept: Array<[provider: string, host: string, subject: string]>;
}

const cases: Case[] = [
  {
    name: "written by hand: a service principal, MFA admins and another cluster",
    policy: policyOf(ec2, admins, eksctl(eksProviderArn, eksHostPath, web)),
    joins: "new",
    kept: [[eksProviderArn, eksHostPath, web]],
  },
  {
    name: "by eksctl, for this issuer",
    policy: policyOf(eksctl(providerArn, hostPath, web)),
    joins: 0,
    kept: [[providerArn, hostPath, web]],
  },
  {
    name: "by eksctl, for an EKS cluster",
    policy: policyOf(eksctl(eksProviderArn, eksHostPath, api)),
    joins: "new",
    kept: [[eksProviderArn, eksHostPath, api]],
  },
  {
    name: "by Terraform's iam-role-for-service-accounts module",
    policy: policyOf(ec2, terraform("StringEquals", [web, "system:serviceaccount:batch:job"])),
    joins: 1,
    kept: [
      [providerArn, hostPath, web],
      [providerArn, hostPath, "system:serviceaccount:batch:job"],
    ],
  },
  {
    name: "by Terraform with assume_role_condition_test = StringLike",
    policy: policyOf(terraform("StringLike", ["system:serviceaccount:batch:*"])),
    joins: 0,
    kept: [[providerArn, hostPath, "system:serviceaccount:batch:nightly"]],
  },
  {
    name: "for this provider with another audience, which it does not widen",
    policy: policyOf({
      ...eksctl(providerArn, hostPath, web),
      Condition: { StringEquals: { [`${hostPath}:sub`]: web, [`${hostPath}:aud`]: "vault" } },
    }),
    joins: "new",
    kept: [],
  },
  {
    name: "for this provider with a further condition, which it does not widen",
    policy: policyOf({
      ...eksctl(providerArn, hostPath, web),
      Condition: {
        StringEquals: { [`${hostPath}:sub`]: web, [`${hostPath}:aud`]: "sts.amazonaws.com" },
        IpAddress: { "aws:SourceIp": "203.0.113.0/24" },
      },
    }),
    joins: "new",
    kept: [],
  },
];

const subKey = `${hostPath}:sub`;

describe("mergeTrustPolicy", () => {
  it.each(cases)("keeps every statement of a policy $name, and lets payments/api in", (c) => {
    const merged = mergeTrustPolicy(c.policy, {
      issuer,
      serviceAccounts: ["payments/api"],
      accountId: "111122223333",
    });
    const statements = merged.policy.Statement as Array<Record<string, unknown>>;
    expect(merged.added).toEqual([api]);
    expect(statements).toHaveLength(c.policy.Statement.length + (c.joins === "new" ? 1 : 0));
    c.policy.Statement.forEach((original, index) => {
      if (index !== c.joins) {
        expect(statements[index]).toEqual(original);
        return;
      }
      // Only the sub values changed: the old ones, in order, and the new one after them.
      const condition = (original as { Condition: Record<string, Record<string, unknown>> }).Condition;
      const [operator, block] = Object.entries(condition).find(([, b]) => subKey in b) as [
        string,
        Record<string, unknown>,
      ];
      expect(statements[index]).toEqual({
        ...original,
        Condition: { ...condition, [operator]: { ...block, [subKey]: [...[block[subKey]].flat(), api] } },
      });
    });
    if (c.joins === "new") {
      expect(statements.at(-1)).toEqual(eksctl(providerArn, hostPath, api));
    }
    expect(lets(merged.policy, api)).toBe("allowed");
    for (const [provider, host, subject] of c.kept)
      expect(lets(merged.policy, subject, provider, host)).toBe("allowed");
    // No service account is let in that was not before, but payments/api.
    expect(lets(merged.policy, "system:serviceaccount:payments:other")).toBe(
      lets(c.policy, "system:serviceaccount:payments:other"),
    );
  });

  it.each([
    ["the console wizard's policy, which lets in every service account", policyOf(ec2, consoleWizard)],
    ["a policy that names it already", policyOf(eksctl(providerArn, hostPath, api))],
    [
      "a policy that lets in its namespace",
      policyOf(terraform("StringLike", ["system:serviceaccount:payments:*"])),
    ],
  ])("returns %s unchanged", (_name, policy) => {
    const merged = mergeTrustPolicy(policy, {
      issuer,
      serviceAccounts: ["payments/api"],
      accountId: "111122223333",
    });
    expect(merged).toEqual({ policy, added: [], alreadyAllowed: [api] });
  });

  it("reads the URL-encoded JSON GetRole returns, and adds several accounts to one statement", () => {
    const text = encodeURIComponent(JSON.stringify(policyOf(eksctl(providerArn, hostPath, web))));
    const merged = mergeTrustPolicy(text, {
      issuer,
      serviceAccounts: ["payments/api", "payments/worker", "payments/web"],
      accountId: "111122223333",
    });
    expect(merged.added).toEqual([api, "system:serviceaccount:payments:worker"]);
    expect(merged.alreadyAllowed).toEqual([web]);
    expect(merged.policy).toEqual(
      policyOf({
        ...eksctl(providerArn, hostPath, web),
        Condition: {
          StringEquals: {
            [subKey]: [web, api, "system:serviceaccount:payments:worker"],
            [`${hostPath}:aud`]: "sts.amazonaws.com",
          },
        },
      }),
    );
  });

  it("adds a namespace to a StringLike statement only, never to a StringEquals one", () => {
    const policy = policyOf(eksctl(providerArn, hostPath, web));
    const merged = mergeTrustPolicy(policy, { issuer, namespaceWide: ["batch"], accountId: "111122223333" });
    const statements = merged.policy.Statement as object[];
    expect(statements[0]).toEqual(policy.Statement[0]);
    expect(statements[1]).toMatchObject({
      Condition: { StringLike: { [subKey]: "system:serviceaccount:batch:*" } },
    });
    expect(lets(merged.policy, "system:serviceaccount:batch:any")).toBe("allowed");
  });

  it.each([
    [
      "a Deny that still applies",
      policyOf(ec2, { ...eksctl(providerArn, hostPath, api), Effect: "Deny" }),
      "ERR_TRUST_POLICY_UNMERGEABLE",
    ],
    ["text that is no policy", "not json", "ERR_TRUST_POLICY_INVALID"],
  ])("refuses %s", (_name, policy, code) => {
    let error: IamError | undefined;
    try {
      mergeTrustPolicy(policy, { issuer, serviceAccounts: ["payments/api"], accountId: "111122223333" });
    } catch (caught) {
      error = caught as IamError;
    }
    expect(error?.code).toBe(code);
  });
});

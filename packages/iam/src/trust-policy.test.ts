import { DiscoveryError } from "@irsa-anywhere/discovery";
import { describe, expect, it } from "vitest";
import {
  buildTrustPolicy,
  evaluateTrustPolicy,
  IamError,
  type IamErrorCode,
  parseServiceAccount,
  type WebIdentityRequest,
} from "./index.js";

const issuer = "https://oidc.example.com/prod";
const hostPath = "oidc.example.com/prod";
const providerArn = `arn:aws:iam::111122223333:oidc-provider/${hostPath}`;
const request: WebIdentityRequest = {
  providerArn,
  issuerHostPath: hostPath,
  subject: "system:serviceaccount:payments:api",
  audience: "sts.amazonaws.com",
};

function thrown(action: () => unknown): IamError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(IamError);
    return error as IamError;
  }
  throw new Error("expected a IamError");
}

describe("buildTrustPolicy", () => {
  it("lets in exactly one service account, with the audience", () => {
    expect(
      buildTrustPolicy({ issuer, serviceAccounts: ["payments/api"], accountId: "111122223333" }),
    ).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: providerArn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${hostPath}:sub`]: "system:serviceaccount:payments:api",
              [`${hostPath}:aud`]: "sts.amazonaws.com",
            },
          },
        },
      ],
    });
  });

  it("lists several service accounts as values of one key, once each", () => {
    const policy = buildTrustPolicy({
      issuer,
      serviceAccounts: ["payments/api", { namespace: "payments", name: "worker" }, "payments/api"],
      accountId: "111122223333",
    });
    expect(policy.Statement[0]?.Condition.StringEquals?.[`${hostPath}:sub`]).toEqual([
      "system:serviceaccount:payments:api",
      "system:serviceaccount:payments:worker",
    ]);
  });

  it("puts a namespace-wide grant in a statement of its own, so that StringEquals and StringLike do not AND", () => {
    const policy = buildTrustPolicy({
      issuer,
      serviceAccounts: ["payments/api"],
      namespaceWide: ["batch"],
      audience: "my-audience",
      accountId: "111122223333",
    });
    expect(policy.Statement).toHaveLength(2);
    expect(policy.Statement[1]?.Condition).toEqual({
      StringEquals: { [`${hostPath}:aud`]: "my-audience" },
      StringLike: { [`${hostPath}:sub`]: "system:serviceaccount:batch:*" },
    });
    for (const subject of ["system:serviceaccount:payments:api", "system:serviceaccount:batch:anything"]) {
      expect(evaluateTrustPolicy(policy, { ...request, subject, audience: "my-audience" }).decision).toBe(
        "allowed",
      );
    }
    expect(
      evaluateTrustPolicy(policy, { ...request, subject: "system:serviceaccount:payments:web" }).decision,
    ).toBe("denied");
  });

  it("names the provider in the partition given", () => {
    const policy = buildTrustPolicy({
      issuer,
      serviceAccounts: ["a/b"],
      accountId: "111122223333",
      partition: "aws-cn",
    });
    expect(policy.Statement[0]?.Principal.Federated).toBe(
      `arn:aws-cn:iam::111122223333:oidc-provider/${hostPath}`,
    );
  });

  it("is a policy that lets in what it names and nothing else", () => {
    const policy = buildTrustPolicy({ issuer, serviceAccounts: ["payments/api"], accountId: "111122223333" });
    expect(evaluateTrustPolicy(policy, request).decision).toBe("allowed");
    expect(evaluateTrustPolicy(policy, { ...request, audience: "other" }).decision).toBe("denied");
    expect(
      evaluateTrustPolicy(policy, { ...request, subject: "system:serviceaccount:payments:web" }).decision,
    ).toBe("denied");
  });

  const refusals: Array<[string, Parameters<typeof buildTrustPolicy>[0], IamErrorCode]> = [
    ["no service account", { issuer, accountId: "111122223333" }, "ERR_SERVICE_ACCOUNT_INVALID"],
    [
      "a service account without namespace",
      { issuer, serviceAccounts: ["api"], accountId: "111122223333" },
      "ERR_SERVICE_ACCOUNT_INVALID",
    ],
    [
      "an upper-case namespace",
      { issuer, serviceAccounts: ["Payments/api"], accountId: "111122223333" },
      "ERR_SERVICE_ACCOUNT_INVALID",
    ],
    [
      "a namespace-wide grant of an invalid namespace",
      { issuer, namespaceWide: ["a/b"], accountId: "111122223333" },
      "ERR_SERVICE_ACCOUNT_INVALID",
    ],
    [
      "an account ID of 11 digits",
      { issuer, serviceAccounts: ["a/b"], accountId: "11112222333" },
      "ERR_ACCOUNT_ID_INVALID",
    ],
    [
      "a wildcard audience",
      { issuer, serviceAccounts: ["a/b"], accountId: "111122223333", audience: "*" },
      "ERR_AUDIENCE_INVALID",
    ],
  ];
  it.each(refusals)("refuses %s", (_name, options, code) => {
    const error = thrown(() => buildTrustPolicy(options));
    expect(error.code).toBe(code);
    expect(error.isInputError).toBe(true);
  });

  it("refuses an issuer STS would not accept", () => {
    expect(() =>
      buildTrustPolicy({ issuer: `${issuer}/`, serviceAccounts: ["a/b"], accountId: "111122223333" }),
    ).toThrow(DiscoveryError);
  });
});

describe("parseServiceAccount", () => {
  it("reads NAMESPACE/NAME", () => {
    expect(parseServiceAccount("kube-system/aws-load-balancer-controller")).toEqual({
      namespace: "kube-system",
      name: "aws-load-balancer-controller",
    });
  });
  it.each([
    "kube-system:aws-load-balancer-controller",
    "system:serviceaccount:kube-system:aws-load-balancer-controller",
  ])("reads %j, as users of kubectl and IAM write it", (text) => {
    expect(parseServiceAccount(text)).toEqual({
      namespace: "kube-system",
      name: "aws-load-balancer-controller",
    });
  });
  it.each([
    "",
    "a",
    "a/b/c",
    "/b",
    "a/",
    "a_b/c",
    `${"a".repeat(64)}/b`,
    "a:b:c",
    "a/b:c",
    ":b",
    "system:serviceaccount:a",
    "system:serviceaccount:a:b:c",
    "system:serviceaccount:a/b",
  ])("refuses %j", (text) => {
    expect(thrown(() => parseServiceAccount(text)).code).toBe("ERR_SERVICE_ACCOUNT_INVALID");
  });
});

const allow = (condition: unknown, extra: Record<string, unknown> = {}) => ({
  Effect: "Allow",
  Principal: { Federated: providerArn },
  Action: "sts:AssumeRoleWithWebIdentity",
  Condition: condition,
  ...extra,
});
const policyOf = (...statements: unknown[]) => ({ Version: "2012-10-17", Statement: statements });
const exact = {
  StringEquals: { [`${hostPath}:sub`]: request.subject, [`${hostPath}:aud`]: "sts.amazonaws.com" },
};

describe("evaluateTrustPolicy", () => {
  const cases: Array<[string, unknown, "allowed" | "denied" | "unknown", RegExp]> = [
    ["the exact policy", policyOf(allow(exact)), "allowed", /statement 1 lets in/],
    [
      "a wrong sub",
      policyOf(allow({ StringEquals: { [`${hostPath}:sub`]: "system:serviceaccount:payments:web" } })),
      "denied",
      /StringEquals on oidc\.example\.com\/prod:sub: "system:serviceaccount:payments:api" equals none of/,
    ],
    [
      "a wrong aud",
      policyOf(allow({ StringEquals: { [`${hostPath}:aud`]: "sts.amazonaws.com.cn" } })),
      "denied",
      /:aud: "sts\.amazonaws\.com" equals none of "sts\.amazonaws\.com\.cn"/,
    ],
    [
      "another issuer's provider",
      policyOf({
        ...allow(exact),
        Principal: { Federated: "arn:aws:iam::111122223333:oidc-provider/other.example.com" },
      }),
      "denied",
      /does not trust .*oidc-provider\/oidc\.example\.com\/prod \(it trusts Federated .*other\.example\.com\)/,
    ],
    [
      "conditions keyed on another issuer, which STS never sets",
      policyOf(allow({ StringEquals: { "oidc.example.com/staging:sub": request.subject } })),
      "denied",
      /oidc\.example\.com\/staging:sub is absent/,
    ],
    [
      "the wrong action",
      policyOf({ ...allow(exact), Action: "sts:AssumeRole" }),
      "denied",
      /allows sts:AssumeRole, not sts:AssumeRoleWithWebIdentity/,
    ],
    [
      "the action by wildcard",
      policyOf({ ...allow(exact), Action: ["sts:AssumeRoleWith*"] }),
      "allowed",
      /lets in/,
    ],
    [
      "NotAction that spares it",
      policyOf({ ...allow(exact), Action: undefined, NotAction: "iam:*" }),
      "allowed",
      /lets in/,
    ],
    [
      "a principal list",
      policyOf({ ...allow(exact), Principal: { Federated: ["arn:x", providerArn] } }),
      "allowed",
      /lets in/,
    ],
    [
      "a namespace wildcard",
      policyOf(allow({ StringLike: { [`${hostPath}:sub`]: "system:serviceaccount:payments:*" } })),
      "allowed",
      /lets in/,
    ],
    [
      "a matching Deny",
      policyOf(allow(exact), {
        Effect: "Deny",
        Principal: { Federated: providerArn },
        Action: "sts:*",
        Condition: { StringLike: { [`${hostPath}:sub`]: "system:serviceaccount:payments:*" } },
      }),
      "denied",
      /statement 2 denies/,
    ],
    [
      "a Deny that does not match",
      policyOf(allow(exact), {
        Effect: "Deny",
        Principal: "*",
        Action: "*",
        Condition: { StringEquals: { [`${hostPath}:sub`]: "system:serviceaccount:kube-system:x" } },
      }),
      "allowed",
      /statement 1/,
    ],
    [
      "a condition only AWS can evaluate",
      policyOf(allow({ ...exact, IpAddress: { "aws:SourceIp": "10.0.0.0/8" } })),
      "unknown",
      /IpAddress on aws:SourceIp: the operator IpAddress is not evaluated here/,
    ],
    [
      "a second statement that allows when the first does not",
      policyOf(allow({ StringEquals: { [`${hostPath}:sub`]: "x" } }), allow(exact, { Sid: "App" })),
      "allowed",
      /statement 2 \(App\) lets in/,
    ],
    ["a statement that is an object, not a list", { Statement: allow(exact) }, "allowed", /lets in/],
    ["no Allow at all", policyOf(), "denied", /no Allow statement/],
    ["not JSON", "{not json", "unknown", /not a JSON policy document/],
  ];
  it.each(cases)("%s", (_name, policy, decision, reason) => {
    const evaluation = evaluateTrustPolicy(policy, request);
    expect(evaluation.decision).toBe(decision);
    expect(evaluation.reason).toMatch(reason);
  });

  it("reads the policy URL-encoded, as the IAM API returns it", () => {
    const encoded = encodeURIComponent(JSON.stringify(policyOf(allow(exact))));
    expect(evaluateTrustPolicy(encoded, request).decision).toBe("allowed");
  });
});

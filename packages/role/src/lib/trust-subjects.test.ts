import { evaluateTrustPolicy } from "@irsa-anywhere/iam";
import { describe, expect, it } from "vitest";
import { trustedSubjects, withoutSubject } from "./trust-subjects.js";

const hostPath = "oidc.example.com/prod";
const providerArn = `arn:aws:iam::111122223333:oidc-provider/${hostPath}`;
const sub = (name: string) => `system:serviceaccount:payments:${name}`;
const statement = (operator: string, subs: string | string[]) => ({
  Effect: "Allow",
  Principal: { Federated: providerArn },
  Action: "sts:AssumeRoleWithWebIdentity",
  Condition: { [operator]: { [`${hostPath}:sub`]: subs, [`${hostPath}:aud`]: "sts.amazonaws.com" } },
});
const ec2 = { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" };
const lets = (policy: unknown, name: string) =>
  evaluateTrustPolicy(policy, {
    providerArn,
    issuerHostPath: hostPath,
    subject: sub(name),
    audience: "sts.amazonaws.com",
  }).decision;

describe("withoutSubject", () => {
  it("takes one value out of a statement that lists several, and leaves the rest", () => {
    const policy = {
      Version: "2012-10-17",
      Statement: [ec2, statement("StringEquals", [sub("api"), sub("web")])],
    };

    const { policy: after, removed } = withoutSubject(policy, hostPath, sub("api"));

    expect(removed).toBe(true);
    expect(after.Statement).toEqual([ec2, statement("StringEquals", sub("web"))]);
    expect(lets(after, "api")).toBe("denied");
    expect(lets(after, "web")).toBe("allowed");
  });

  it("drops a statement left with no sub whole, which would otherwise let in the whole cluster", () => {
    const policy = { Version: "2012-10-17", Statement: [statement("StringEquals", [sub("api")]), ec2] };

    const { policy: after } = withoutSubject(policy, hostPath, sub("api"));

    expect(after.Statement).toEqual([ec2]);
    expect(lets(after, "neighbour")).toBe("denied");
  });

  it("changes nothing for a subject the policy does not name, or names under another issuer", () => {
    const other = JSON.parse(
      JSON.stringify(statement("StringEquals", sub("api"))).replaceAll(
        "oidc.example.com/prod",
        "oidc.example.com/staging",
      ),
    );
    const policy = { Version: "2012-10-17", Statement: [other, statement("StringLike", sub("*"))] };

    expect(withoutSubject(policy, hostPath, sub("api"))).toEqual({ policy, removed: false });
    expect(trustedSubjects(policy, hostPath)).toEqual([
      { value: sub("*"), operator: "StringLike", providerArn },
    ]);
  });
});

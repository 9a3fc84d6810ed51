import { quoteInput } from "@irsa-anywhere/errors";
import { STS_ERRORS } from "../check.js";
import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass } from "../lib/outcome.js";
import { type ClusterFacts, readAnswer } from "./cluster-api.js";

/** @internal The API server's `--service-account-issuer` is this issuer. */
export function judgeClusterIssuer(facts: ClusterFacts, issuer: string): Outcome {
  const answer = readAnswer(
    facts.discovery,
    facts.server,
    "/.well-known/openid-configuration",
    "get it (kubectl create clusterrolebinding oidc-reviewer --clusterrole=system:service-account-issuer-discovery --group=system:authenticated)",
    {
      unserved:
        "Kubernetes 1.21 and later serve it; compare kube-apiserver's --service-account-issuer with the issuer by hand",
    },
  );
  if ("blocked" in answer) return answer.blocked;
  const clusterIssuer = (answer.body as { issuer?: unknown } | null)?.issuer;
  const details = { clusterIssuer: clusterIssuer ?? null };
  if (clusterIssuer === issuer) {
    return pass(`kube-apiserver --service-account-issuer is ${issuer}`, { details });
  }
  if (typeof clusterIssuer !== "string") {
    return fail(
      "ERR_CLUSTER_ISSUER_MISSING",
      `${facts.server}'s discovery document names no issuer`,
      "check kube-apiserver's --service-account-issuer",
      {
        details,
      },
    );
  }
  return fail(
    "ERR_CLUSTER_ISSUER_MISMATCH",
    `the cluster's tokens carry "iss": ${quoteInput(clusterIssuer)} (kube-apiserver --service-account-issuer), not ${issuer}`,
    `EKS Anywhere: set spec.podIamConfig.serviceAccountIssuer: ${issuer} in the cluster spec and upgrade the cluster; elsewhere set kube-apiserver --service-account-issuer=${issuer}. Or check the issuer you gave`,
    { sts: STS_ERRORS.noProvider(clusterIssuer), details },
  );
}

export const clusterIssuerCheck = defineCheck({
  id: "cluster-issuer",
  needs: ["cluster"],
  run: ({ cluster }, env) => judgeClusterIssuer(cluster, env.issuer),
});

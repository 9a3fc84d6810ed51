import { parseJwks } from "@irsa-anywhere/keys";
import { STS_ERRORS } from "../check.js";
import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass, skip } from "../lib/outcome.js";
import { type ClusterFacts, readAnswer } from "./cluster-api.js";
import type { PublishedKeys } from "./jwks.js";

/** @internal Every key the API server verifies tokens with is published. */
export function judgeClusterJwks(facts: ClusterFacts, published: PublishedKeys | undefined): Outcome {
  const answer = readAnswer(
    facts.jwks,
    facts.server,
    "/openid/v1/jwks",
    "get it (the same role as the discovery document)",
    { unserved: "Kubernetes 1.21 and later serve it; compare the keys by hand" },
  );
  if ("blocked" in answer) return answer.blocked;
  if (!published) return skip("the published JWKS could not be read", "SKIP_NO_JWKS");
  let clusterKids: string[];
  try {
    const parsed = parseJwks(JSON.stringify(answer.body), `${facts.server}/openid/v1/jwks`);
    clusterKids = parsed.keys.map((key) => key.kid);
  } catch (error) {
    return fail(
      "ERR_CLUSTER_JWKS_INVALID",
      `the API server's JWKS does not parse: ${(error as Error).message}`,
      "check kube-apiserver's --service-account-key-file",
    );
  }
  const missing = clusterKids.filter((kid) => !published.named.has(kid));
  const details = { clusterKids, missing };
  if (missing.length === 0) {
    return pass(`all ${clusterKids.length} of the API server's keys are published`, { details });
  }
  return fail(
    "ERR_CLUSTER_KEY_UNPUBLISHED",
    `the API server verifies with key${missing.length === 1 ? "" : "s"} ${missing.join(", ")}, which the published JWKS lacks: STS rejects tokens signed with ${missing.length === 1 ? "it" : "them"}`,
    "publish the cluster's keys: irsa-anywhere publish --cluster NAME ... (earlier keys stay published)",
    { sts: STS_ERRORS.noKey, details },
  );
}

export const clusterJwksCheck = defineCheck({
  id: "cluster-jwks",
  needs: ["cluster"],
  // The cluster's answer is judged first: an API server that cannot be read fails the check.
  uses: ["jwks"],
  run: ({ cluster, jwks }) => judgeClusterJwks(cluster, jwks),
});

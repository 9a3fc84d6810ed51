import {
  DEFAULT_AUDIENCE,
  lookUpOidcProvider,
  type RoleArn,
  type ServiceAccountRef,
} from "@irsa-anywhere/iam";
import type { PublicSigningKey } from "@irsa-anywhere/keys";
import type { KubeApi } from "@irsa-anywhere/kube";
import { gatherClusterFacts } from "./checks/cluster-api.js";
import { defineFact, type FactDeclaration, missing } from "./lib/check-model.js";
import type { SigningKey } from "./signing-key.js";

/** @internal What the user gave `diagnose()`, validated. */
export interface Given {
  keys: readonly PublicSigningKey[] | undefined;
  keysUnavailable: string | undefined;
  aws: boolean;
  kube: KubeApi | undefined;
  account: ServiceAccountRef | undefined;
  role: RoleArn | undefined;
  audience: string | undefined;
  smokeTest: boolean;
  signingKey: SigningKey | undefined;
}

/**
 * @internal
 * The facts no check learns: what the user gave (each missing with what to add), and the reads
 * several checks share (the cluster's answers, IAM's provider, the role, the audience).
 */
export function factDeclarations(given: Given): FactDeclaration[] {
  return [
    defineFact({
      fact: "keys",
      needs: [],
      produce: () =>
        given.keys ??
        (given.keysUnavailable === undefined
          ? missing("no key source given: add --cluster NAME or --key FILE", "SKIP_NO_KEYS")
          : missing(
              `the cluster's keys could not be read: ${given.keysUnavailable}`,
              "COULD_NOT_CHECK_KEYS",
              {
                fix: "check that the cluster is up and that --kubeconfig / --context point at it, or give the key as --key FILE",
              },
            )),
    }),
    defineFact({
      fact: "aws",
      needs: [],
      produce: () => (given.aws ? true : missing("AWS checks are off", "SKIP_AWS_OFF")),
    }),
    defineFact({
      fact: "cluster",
      needs: [],
      produce: () =>
        given.kube
          ? gatherClusterFacts(given.kube, given.account)
          : missing(
              "no kubeconfig given: add --kubeconfig (and --context), or run in the cluster",
              "SKIP_NO_CLUSTER",
            ),
    }),
    defineFact({
      fact: "serviceAccount",
      needs: [],
      produce: () =>
        given.account ??
        missing("no service account given: add --service-account NAMESPACE/NAME", "SKIP_NO_SERVICE_ACCOUNT"),
    }),
    defineFact({
      fact: "smokeTest",
      needs: [],
      produce: () =>
        given.smokeTest && given.signingKey && given.account
          ? given.signingKey
          : missing(
              "add --smoke-test (with the private signing key, e.g. --cluster NAME) to send a real token to STS",
              "SKIP_NO_SMOKE_TEST",
            ),
    }),
    defineFact({
      fact: "providerLookup",
      needs: ["aws", "hostPath"],
      produce: async ({ hostPath }, env) => lookUpOidcProvider(await env.iam(), hostPath),
    }),
    defineFact({
      fact: "role",
      needs: [],
      uses: ["annotatedRole"],
      produce: async ({ annotatedRole }, env) => {
        const role = given.role ?? annotatedRole;
        if (role) return role;
        // With a cluster, what stopped the service account from naming the role, as its check said.
        const read = given.kube ? await env.outcomeOf("service-account") : undefined;
        return read && read.status !== "skip"
          ? missing(`no role: ${read.reason}; add --role-arn ARN`, "SKIP_NO_ROLE")
          : missing(
              "no role given: add --role-arn ARN (or a kubeconfig, to read the service account's annotation)",
              "SKIP_NO_ROLE",
            );
      },
    }),
    defineFact({
      fact: "audience",
      needs: [],
      uses: ["annotations"],
      produce: ({ annotations }) => given.audience ?? annotations?.audience ?? DEFAULT_AUDIENCE,
    }),
  ];
}

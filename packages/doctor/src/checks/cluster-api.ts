import type { KubeAnswer, KubeApi } from "../lib/kube.js";
import { couldNotRun, notChecked, type Outcome } from "../lib/outcome.js";
import type { ServiceAccountRef } from "../service-account.js";

/** @internal What the API server answered, read in one go. */
export interface ClusterFacts {
  server: string;
  discovery: KubeAnswer;
  jwks: KubeAnswer;
  webhooks: KubeAnswer;
  serviceAccount?: KubeAnswer;
  pods?: KubeAnswer;
}

/** @internal GETs everything the cluster checks read, at once. */
export async function gatherClusterFacts(
  api: KubeApi,
  account: ServiceAccountRef | undefined,
): Promise<ClusterFacts> {
  const ns = account ? encodeURIComponent(account.namespace) : "";
  const [discovery, jwks, webhooks, serviceAccount, pods] = await Promise.all([
    api.get("/.well-known/openid-configuration"),
    api.get("/openid/v1/jwks"),
    api.get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"),
    account
      ? api.get(`/api/v1/namespaces/${ns}/serviceaccounts/${encodeURIComponent(account.name)}`)
      : undefined,
    account
      ? api.get(
          `/api/v1/namespaces/${ns}/pods?fieldSelector=${encodeURIComponent(`spec.serviceAccountName=${account.name}`)}`,
        )
      : undefined,
  ]);
  return {
    server: api.server,
    discovery,
    jwks,
    webhooks,
    ...(serviceAccount ? { serviceAccount } : {}),
    ...(pods ? { pods } : {}),
  };
}

/** @internal An answer that is not a 200 as a "not checked" outcome, or `undefined` for a 200. */
export function unavailable(
  answer: KubeAnswer,
  server: string,
  what: string,
  permission: string,
  /** The user named exactly this (`--service-account`): that it cannot be read is a failure. */
  asked = false,
): Outcome | undefined {
  // An API server that cannot be reached fails every check of the cluster the user named.
  if ("error" in answer) {
    return couldNotRun(
      "COULD_NOT_CHECK_CLUSTER_UNREACHABLE",
      `cannot read ${what} from ${server}: ${answer.error}`,
      "check that the cluster is up and that --kubeconfig / --context point at it",
    );
  }
  if (answer.status === 401 || answer.status === 403) {
    const reason = `${server} does not let this identity read ${what} (HTTP ${answer.status})`;
    const fix = `use a kubeconfig whose identity may ${permission}`;
    return asked
      ? couldNotRun("COULD_NOT_CHECK_CLUSTER_FORBIDDEN", reason, fix)
      : notChecked("NOT_CHECKED_CLUSTER_FORBIDDEN", reason, fix);
  }
  return undefined;
}

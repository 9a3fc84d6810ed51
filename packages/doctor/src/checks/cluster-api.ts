import type { ServiceAccountRef } from "@irsa-anywhere/iam";
import type { KubeAnswer, KubeApi } from "@irsa-anywhere/kube";
import {
  MANAGED_BY_LABEL,
  WEBHOOK_NAME,
  WEBHOOK_TLS_SECRET,
  webhookConfigurationName,
} from "@irsa-anywhere/webhook";
import { couldNotRun, notChecked, type Outcome } from "../lib/outcome.js";

/** @internal What the API server answered, read in one go. */
export interface ClusterFacts {
  server: string;
  discovery: KubeAnswer;
  jwks: KubeAnswer;
  webhooks: KubeAnswer;
  serviceAccount?: KubeAnswer;
  pods?: KubeAnswer;
  /** The webhook `irsa-anywhere webhook install` installed, when the cluster has one. */
  webhookInstallation?: WebhookInstallationAnswers;
}

/** @internal What `webhook status` reads too: the Deployment and serving Secret of an installation. */
export interface WebhookInstallationAnswers {
  namespace: string;
  deployment: KubeAnswer;
  servingSecret: KubeAnswer;
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
  const webhookInstallation = await readWebhookInstallation(api, webhooks);
  return {
    server: api.server,
    discovery,
    jwks,
    webhooks,
    ...(serviceAccount ? { serviceAccount } : {}),
    ...(pods ? { pods } : {}),
    ...(webhookInstallation ? { webhookInstallation } : {}),
  };
}

/** The Deployment and serving Secret of the webhook irsa-anywhere installed, when its configuration is listed. */
async function readWebhookInstallation(
  api: KubeApi,
  webhooks: KubeAnswer,
): Promise<WebhookInstallationAnswers | undefined> {
  if ("error" in webhooks || webhooks.status !== 200) return undefined;
  const items = ((webhooks.body as { items?: unknown } | null)?.items ?? []) as Array<{
    metadata?: { name?: string; labels?: Record<string, string> };
    webhooks?: Array<{ clientConfig?: { service?: { namespace?: string } } }>;
  }>;
  const ours = items.find((item) => {
    const namespace = item.webhooks?.[0]?.clientConfig?.service?.namespace;
    return (
      namespace !== undefined &&
      item.metadata?.labels?.[MANAGED_BY_LABEL] === "irsa-anywhere" &&
      item.metadata.name === webhookConfigurationName(namespace)
    );
  });
  const namespace = ours?.webhooks?.[0]?.clientConfig?.service?.namespace;
  if (namespace === undefined) return undefined;
  const ns = encodeURIComponent(namespace);
  const [deployment, servingSecret] = await Promise.all([
    api.get(`/apis/apps/v1/namespaces/${ns}/deployments/${WEBHOOK_NAME}`),
    api.get(`/api/v1/namespaces/${ns}/secrets/${WEBHOOK_TLS_SECRET}`),
  ]);
  return { namespace, deployment, servingSecret };
}

/**
 * @internal
 * The body of a 200 answer, or why there is none as a "not checked" outcome: an API server that
 * cannot be reached fails (the user named the cluster), as does an answer the user asked for by
 * name (`asked`, e.g. `--service-account`); a path older API servers do not serve (`unserved`:
 * what to do instead) and any other status are warnings.
 */
export function readAnswer(
  answer: KubeAnswer,
  server: string,
  what: string,
  permission: string,
  options: { asked?: boolean; unserved?: string } = {},
): { body: unknown } | { blocked: Outcome } {
  if ("error" in answer) {
    return {
      blocked: couldNotRun(
        "COULD_NOT_CHECK_CLUSTER_UNREACHABLE",
        `cannot read ${what} from ${server}: ${answer.error}`,
        "check that the cluster is up and that --kubeconfig / --context point at it",
      ),
    };
  }
  if (answer.status === 401 || answer.status === 403) {
    const reason = `${server} does not let this identity read ${what} (HTTP ${answer.status})`;
    const fix = `use a kubeconfig whose identity may ${permission}`;
    return {
      blocked: options.asked
        ? couldNotRun("COULD_NOT_CHECK_CLUSTER_FORBIDDEN", reason, fix)
        : notChecked("NOT_CHECKED_CLUSTER_FORBIDDEN", reason, fix),
    };
  }
  if (answer.status === 200) return { body: answer.body };
  if (options.unserved !== undefined) {
    return {
      blocked: notChecked(
        "NOT_CHECKED_CLUSTER_UNSUPPORTED",
        `${server} does not serve ${what} (HTTP ${answer.status})`,
        options.unserved,
      ),
    };
  }
  const reason = `${server} answered HTTP ${answer.status} for ${what}`;
  return {
    blocked: options.asked
      ? couldNotRun("COULD_NOT_CHECK_CLUSTER_HTTP_STATUS", reason, "run again")
      : notChecked("NOT_CHECKED_CLUSTER_HTTP_STATUS", reason, "run again"),
  };
}

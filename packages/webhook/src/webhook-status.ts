import type { ClusterObjects } from "@irsa-anywhere/kube";
import { WebhookError } from "./errors.js";
import { judgeWebhookHealth, type WebhookHealth } from "./installation-health.js";
import { readInstallation, readSecretText } from "./installed-objects.js";
import { DEFAULT_WEBHOOK_NAMESPACE } from "./manifests.js";
import { assertDnsLabel } from "./names.js";

/**
 * Reads the installation in `namespace` and judges it with {@link judgeWebhookHealth}: the
 * version it runs, replicas ready, the serving certificate's expiry, whether the CA bundle
 * verifies it, and whether the webhook configuration points at the Service.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_OPTION_INVALID` for a namespace that is no Kubernetes name;
 *   `ERR_WEBHOOK_NOT_INSTALLED` when the namespace holds no installation.
 * @throws {KubeError} `ERR_CLUSTER_FORBIDDEN`, `ERR_CLUSTER_UNREACHABLE`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const health = await webhookStatus(cluster, "irsa-anywhere");
 * console.log(health.version, health.healthy);
 */
export async function webhookStatus(
  cluster: ClusterObjects,
  namespace: string = DEFAULT_WEBHOOK_NAMESPACE,
  now: Date = new Date(),
): Promise<WebhookHealth> {
  assertDnsLabel(namespace, "namespace");
  const found = await readInstallation(cluster, namespace);
  if (
    found.deployment === undefined &&
    found.servingSecret === undefined &&
    found.webhookConfiguration === undefined
  ) {
    throw notInstalled(namespace, cluster.server);
  }
  return judgeWebhookHealth(
    {
      namespace,
      deployment: found.deployment,
      servingCertificatePem: found.servingSecret && readSecretText(found.servingSecret)["tls.crt"],
      webhookConfiguration: found.webhookConfiguration,
    },
    now,
  );
}

/** @internal No installation in `namespace`: a wrong --namespace or --context, most likely. */
export function notInstalled(namespace: string, server: string): WebhookError {
  return new WebhookError(
    "ERR_WEBHOOK_NOT_INSTALLED",
    `no pod identity webhook installed in namespace ${namespace} on ${server}; check --namespace and --context, or run irsa-anywhere webhook install`,
  );
}

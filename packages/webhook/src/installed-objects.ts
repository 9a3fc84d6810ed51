import type { ClusterObjects, KubeObject } from "@irsa-anywhere/kube";
import { WEBHOOK_NAME, WEBHOOK_TLS_SECRET, webhookConfigurationName } from "./manifests.js";

/** A Secret's `data` as text (PEM), each value decoded from the API's base64. */
export function readSecretText(secret: KubeObject): Record<string, string> {
  const data = (secret.data ?? {}) as Record<string, string>;
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]),
  );
}

/** What `status` and `renew-cert` read: the Namespace, Deployment, serving Secret and webhook configuration. */
export async function readInstallation(cluster: ClusterObjects, namespace: string) {
  const [namespaceObject, deployment, servingSecret, webhookConfiguration] = await Promise.all([
    cluster.read({ apiVersion: "v1", kind: "Namespace", name: namespace }),
    cluster.read({ apiVersion: "apps/v1", kind: "Deployment", namespace, name: WEBHOOK_NAME }),
    cluster.read({ apiVersion: "v1", kind: "Secret", namespace, name: WEBHOOK_TLS_SECRET }),
    cluster.read({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      name: webhookConfigurationName(namespace),
    }),
  ]);
  return { namespaceObject, deployment, servingSecret, webhookConfiguration };
}

import type { ClusterObjects, KubeObject, KubeObjectRef } from "@irsa-anywhere/kube";
import { refOf } from "@irsa-anywhere/kube";
import { makeWebhookCertificates } from "./certificates.js";
import { asKubeObject, assertMayWrite, WEBHOOK_FIELD_MANAGER } from "./install-webhook.js";
import { DEFAULT_WEBHOOK_NAMESPACE, MANAGED_BY_LABEL, WEBHOOK_NAME, webhookManifests } from "./manifests.js";
import { assertDnsLabel } from "./names.js";

/**
 * The objects of the installation in `namespace` that `install` created, in the order to delete
 * them (the webhook configuration first, so the API server stops calling the webhook, the
 * Namespace last): each of a kind install applies, with its label, and with irsa-anywhere among
 * its field managers. A Namespace someone else also manages (it was there before) is left.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_OPTION_INVALID` for a namespace that is no Kubernetes name.
 * @throws {KubeError} `ERR_CLUSTER_FORBIDDEN`, `ERR_CLUSTER_UNREACHABLE`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const refs = await planWebhookUninstall(cluster, "irsa-anywhere");
 * for (const ref of refs) console.log(describeRef(ref));
 */
export async function planWebhookUninstall(
  cluster: ClusterObjects,
  namespace: string = DEFAULT_WEBHOOK_NAMESPACE,
): Promise<KubeObjectRef[]> {
  assertDnsLabel(namespace, "namespace");
  const certManager = (await cluster.apiGroups()).includes("cert-manager.io");
  // Every kind and name an install makes, in either TLS mode (throwaway certificates: names only).
  const certificates = makeWebhookCertificates({ serviceName: WEBHOOK_NAME, namespace });
  const expected = [
    ...webhookManifests({ namespace, tls: { mode: "secret", certificates } }),
    ...webhookManifests({ namespace, tls: { mode: "cert-manager" } }),
  ]
    .map((object) => refOf(asKubeObject(object)))
    .filter((ref) => certManager || ref.apiVersion !== "cert-manager.io/v1");
  const kinds = [...new Map(expected.map((ref) => [`${ref.apiVersion} ${ref.kind}`, ref])).values()];
  const selector = `${MANAGED_BY_LABEL}=irsa-anywhere`;
  const found = await Promise.all(
    kinds.map((kind) => cluster.list(kind, selector, kind.namespace === undefined ? undefined : namespace)),
  );
  const ours = found.flat().filter((object) => {
    const ref = refOf(object);
    const managers = (object.metadata.managedFields ?? []).filter((entry) => entry.subresource === undefined);
    if (!managers.some((entry) => entry.manager === WEBHOOK_FIELD_MANAGER)) return false;
    if (ref.kind === "Namespace" && managers.some((entry) => entry.manager !== WEBHOOK_FIELD_MANAGER))
      return false;
    // A cluster-scoped object is this installation's only by the name install gives it.
    return ref.namespace !== undefined || expected.some((e) => e.kind === ref.kind && e.name === ref.name);
  });
  const order = (object: KubeObject) => {
    if (object.kind === "MutatingWebhookConfiguration") return 0;
    if (object.kind === "Namespace") return 2;
    return 1;
  };
  return ours.sort((a, b) => order(a) - order(b)).map(refOf);
}

/**
 * Deletes what {@link planWebhookUninstall} found, after asking whether this identity may delete
 * each (so that a kubeconfig without the rights deletes nothing).
 *
 * @throws {KubeError} `ERR_CLUSTER_FORBIDDEN`, `ERR_CLUSTER_UNREACHABLE`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * await uninstallWebhook(cluster, await planWebhookUninstall(cluster, "irsa-anywhere"));
 */
export async function uninstallWebhook(
  cluster: ClusterObjects,
  refs: readonly KubeObjectRef[],
): Promise<void> {
  await assertMayWrite(
    cluster,
    refs.map((ref) => ({ ref, exists: true, verb: "delete" as const })),
  );
  for (const ref of refs) await cluster.remove(ref);
}

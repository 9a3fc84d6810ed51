import { X509Certificate } from "node:crypto";
import type { ClusterObjects } from "@irsa-anywhere/kube";
import { issueServingCertificate } from "./certificates.js";
import { WebhookError } from "./errors.js";
import { asKubeObject } from "./install-webhook.js";
import { judgeWebhookHealth } from "./installation-health.js";
import { readSecretText } from "./installed-objects.js";
import {
  DEFAULT_WEBHOOK_NAMESPACE,
  WEBHOOK_CA_SECRET,
  WEBHOOK_NAME,
  WEBHOOK_TLS_SECRET,
  webhookConfigurationName,
  webhookManifests,
} from "./manifests.js";
import { assertDnsLabel } from "./names.js";
import { notInstalled } from "./webhook-status.js";

/**
 * What {@link renewWebhookCertificate} did: the old and new serving certificates' ends.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const renewal: WebhookRenewal = await renewWebhookCertificate(cluster, "irsa-anywhere");
 * console.log(`valid until ${renewal.notAfter.toISOString()}`);
 */
export interface WebhookRenewal {
  namespace: string;
  previousNotAfter: Date | undefined;
  notAfter: Date;
}

/**
 * Replaces the serving certificate with a new one from the same CA, in one update of the serving
 * Secret (a compare-and-swap on the Secret as read). The CA stays, so the CA bundle the API
 * server trusts verifies the old certificate and the new one alike: there is no moment when
 * they disagree. The new certificate is checked against the webhook configuration's CA bundle
 * before anything is written. The webhook's pods see the new files when the kubelet refreshes the
 * Secret's volume (within a minute or two).
 *
 * @throws {WebhookError} `ERR_WEBHOOK_NOT_INSTALLED`; `ERR_WEBHOOK_CERT_MANAGED` where cert-manager
 *   renews the certificate; `ERR_WEBHOOK_CA_INVALID` when the CA Secret is missing or broken, or
 *   the CA bundle is not that CA's (install again).
 * @throws {KubeError} `ERR_CLUSTER_FORBIDDEN` (it needs get on both Secrets and the webhook
 *   configuration, and patch on the serving Secret: examples/webhook/base/rbac.yaml), `ERR_CLUSTER_WRITE_REFUSED` (another run changed the Secret meanwhile), `ERR_CLUSTER_UNREACHABLE`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const { notAfter } = await renewWebhookCertificate(cluster, "irsa-anywhere");
 */
export async function renewWebhookCertificate(
  cluster: ClusterObjects,
  namespace: string = DEFAULT_WEBHOOK_NAMESPACE,
  now: Date = new Date(),
): Promise<WebhookRenewal> {
  assertDnsLabel(namespace, "namespace");
  // Only what it needs, so that a job running it needs few rights (examples/webhook/base/rbac.yaml).
  const readSecret = (name: string) => cluster.read({ apiVersion: "v1", kind: "Secret", namespace, name });
  const [serving, caSecret, webhookConfiguration] = await Promise.all([
    readSecret(WEBHOOK_TLS_SECRET),
    readSecret(WEBHOOK_CA_SECRET),
    cluster.read({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      name: webhookConfigurationName(namespace),
    }),
  ]);
  if (serving === undefined) throw notInstalled(namespace, cluster.server);
  const certManaged =
    serving.metadata.annotations?.["cert-manager.io/certificate-name"] !== undefined ||
    webhookConfiguration?.metadata.annotations?.["cert-manager.io/inject-ca-from"] !== undefined;
  if (certManaged) {
    throw new WebhookError(
      "ERR_WEBHOOK_CERT_MANAGED",
      `cert-manager issues and renews the webhook's certificate in namespace ${namespace} (Certificate ${WEBHOOK_TLS_SECRET}); nothing to do: see kubectl -n ${namespace} get certificate`,
    );
  }
  const ca = caSecret && readSecretText(caSecret);
  if (ca?.["ca.crt"] === undefined || ca["ca.key"] === undefined) {
    throw new WebhookError(
      "ERR_WEBHOOK_CA_INVALID",
      `no CA to sign with in Secret ${namespace}/${WEBHOOK_CA_SECRET}; run irsa-anywhere webhook install --namespace ${namespace}, which makes one`,
    );
  }
  const certificates = issueServingCertificate({
    ca: { certificatePem: ca["ca.crt"], keyPem: ca["ca.key"] },
    serviceName: WEBHOOK_NAME,
    namespace,
    now,
  });
  const bundleCheck = judgeWebhookHealth(
    {
      namespace,
      deployment: undefined,
      servingCertificatePem: certificates.certificatePem,
      webhookConfiguration,
    },
    now,
  ).checks.find((check) => check.id === "ca-bundle");
  if (bundleCheck?.status !== "pass") {
    throw new WebhookError(
      "ERR_WEBHOOK_CA_INVALID",
      `the webhook configuration's CA bundle is not the CA in Secret ${namespace}/${WEBHOOK_CA_SECRET}, so a renewed certificate would not be trusted; run irsa-anywhere webhook install --namespace ${namespace} to set both right`,
    );
  }
  const secret = webhookManifests({ namespace, tls: { mode: "secret", certificates } }).find(
    (object) => object.kind === "Secret" && object.metadata?.name === WEBHOOK_TLS_SECRET,
  );
  if (secret === undefined) throw new Error("the manifests have no serving Secret");
  const next = asKubeObject(secret);
  // One write, and only over the Secret as read: two renewals at once cannot both win.
  if (serving.metadata.resourceVersion !== undefined)
    next.metadata.resourceVersion = serving.metadata.resourceVersion;
  await cluster.apply(next);
  const previous = readSecretText(serving)["tls.crt"];
  let previousNotAfter: Date | undefined;
  try {
    previousNotAfter = previous === undefined ? undefined : new Date(new X509Certificate(previous).validTo);
  } catch {
    previousNotAfter = undefined;
  }
  return { namespace, previousNotAfter, notAfter: certificates.notAfter };
}

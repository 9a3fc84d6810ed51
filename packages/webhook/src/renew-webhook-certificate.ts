import { X509Certificate } from "node:crypto";
import {
  type ClusterObjects,
  type DeploymentProgress,
  type KubeObject,
  waitForDeployment,
} from "@irsa-anywhere/kube";
import { certificateFingerprint, issueServingCertificate } from "./certificates.js";
import { WebhookError } from "./errors.js";
import { asKubeObject, assertMayWrite, WEBHOOK_FIELD_MANAGER } from "./install-webhook.js";
import { judgeWebhookHealth } from "./installation-health.js";
import { readSecretText } from "./installed-objects.js";
import {
  DEFAULT_WEBHOOK_NAMESPACE,
  SERVING_CERTIFICATE_ANNOTATION,
  WEBHOOK_CA_SECRET,
  WEBHOOK_NAME,
  WEBHOOK_TLS_SECRET,
  webhookConfigurationName,
  webhookManifests,
} from "./manifests.js";
import { assertDnsLabel } from "./names.js";
import { notInstalled } from "./webhook-status.js";

/**
 * How {@link renewWebhookCertificate} waits for the webhook's pods to serve the new certificate.
 *
 * @example
 * const options: WebhookRenewalOptions = { timeoutMs: 120_000, onProgress: ({ ready, desired }) => console.error(`${ready}/${desired} ready`) };
 */
export interface WebhookRenewalOptions {
  /** How long to wait for the restarted replicas to be ready; 5 minutes by default. */
  timeoutMs?: number;
  /** Told how many replicas of the new version are ready, as `webhook install` tells it. */
  onProgress?: (progress: DeploymentProgress) => void;
  /** The moment the certificate is made at; now unless given. */
  now?: Date;
}

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
  /** The new certificate's SHA-256 fingerprint, now in the Deployment's pod template. */
  fingerprint: string;
}

/**
 * Replaces the serving certificate with a new one from the same CA, in one update of the serving
 * Secret (a compare-and-swap on the Secret as read). The CA stays, so the CA bundle the API
 * server trusts verifies the old certificate and the new one alike: there is no moment when
 * they disagree. The new certificate is checked against the webhook configuration's CA bundle
 * before anything is written. Then it restarts the webhook's pods and waits, within `timeoutMs`,
 * until every replica of the new version is ready: the webhook is not known to read its
 * certificate files again when the kubelet refreshes the Secret's volume, so only pods started
 * after the Secret changed surely serve the new certificate. The restart is a change of the pod
 * template's {@link SERVING_CERTIFICATE_ANNOTATION} (the Secret first, so that the new pods mount
 * the new certificate): a rolling update that keeps a replica serving throughout (`maxUnavailable`
 * 0 and the PodDisruptionBudget), and the same annotation `webhook install` sets, so that running
 * install afterwards changes nothing.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_NOT_INSTALLED`; `ERR_WEBHOOK_CERT_MANAGED` where cert-manager
 *   renews the certificate; `ERR_WEBHOOK_CA_INVALID` when the CA Secret is missing or broken, or
 *   the CA bundle is not that CA's (install again).
 * @throws {KubeError} `ERR_CLUSTER_FORBIDDEN`, before any write (it needs get on both Secrets and
 *   the webhook configuration, and get and patch on the serving Secret and the Deployment:
 *   examples/webhook/base/rbac.yaml), `ERR_CLUSTER_WRITE_REFUSED` (another run changed the Secret
 *   meanwhile), `ERR_DEPLOYMENT_NOT_READY` (the new pods are not ready within `timeoutMs`; the
 *   Secret holds the new certificate already), `ERR_CLUSTER_UNREACHABLE`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const { notAfter } = await renewWebhookCertificate(cluster, "irsa-anywhere", { timeoutMs: 120_000 });
 */
export async function renewWebhookCertificate(
  cluster: ClusterObjects,
  namespace: string = DEFAULT_WEBHOOK_NAMESPACE,
  options: WebhookRenewalOptions = {},
): Promise<WebhookRenewal> {
  const { now = new Date(), timeoutMs = 300_000 } = options;
  assertDnsLabel(namespace, "namespace");
  // Only what it needs, so that a job running it needs few rights (examples/webhook/base/rbac.yaml).
  const readSecret = (name: string) => cluster.read({ apiVersion: "v1", kind: "Secret", namespace, name });
  const [serving, caSecret, webhookConfiguration, deployment] = await Promise.all([
    readSecret(WEBHOOK_TLS_SECRET),
    readSecret(WEBHOOK_CA_SECRET),
    cluster.read({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      name: webhookConfigurationName(namespace),
    }),
    cluster.read(deploymentRef(namespace)),
  ]);
  if (serving === undefined || deployment === undefined) throw notInstalled(namespace, cluster.server);
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
  const manifests = webhookManifests({ namespace, tls: { mode: "secret", certificates } });
  const secret = manifests.find(
    (object) => object.kind === "Secret" && object.metadata?.name === WEBHOOK_TLS_SECRET,
  );
  const deploymentManifest = manifests.find((object) => object.kind === "Deployment");
  if (secret === undefined || deploymentManifest === undefined)
    throw new Error("the manifests have no serving Secret or no Deployment");
  const next = asKubeObject(secret);
  // Both writes allowed, or neither made: a new certificate the pods are not restarted with helps no one.
  await assertMayWrite(cluster, [
    { ref: { apiVersion: "v1", kind: "Secret", namespace, name: WEBHOOK_TLS_SECRET }, exists: true },
    { ref: deploymentRef(namespace), exists: true },
  ]);
  // One write, and only over the Secret as read: two renewals at once cannot both win.
  if (serving.metadata.resourceVersion !== undefined)
    next.metadata.resourceVersion = serving.metadata.resourceVersion;
  await cluster.apply(next);
  const fingerprint = certificateFingerprint(certificates.certificatePem) as string;
  await restartWithCertificate(cluster, asKubeObject(deploymentManifest), fingerprint);
  await waitForDeployment(cluster, {
    namespace,
    name: WEBHOOK_NAME,
    timeoutMs,
    ...(options.onProgress && { onProgress: options.onProgress }),
  });
  const previous = readSecretText(serving)["tls.crt"];
  let previousNotAfter: Date | undefined;
  try {
    previousNotAfter = previous === undefined ? undefined : new Date(new X509Certificate(previous).validTo);
  } catch {
    previousNotAfter = undefined;
  }
  return { namespace, previousNotAfter, notAfter: certificates.notAfter, fingerprint };
}

const deploymentRef = (namespace: string) =>
  ({ apiVersion: "apps/v1", kind: "Deployment", namespace, name: WEBHOOK_NAME }) as const;

/** The field manager of renew-cert's one field, the pod template's certificate annotation. */
export const RENEW_FIELD_MANAGER = `${WEBHOOK_FIELD_MANAGER}-renew-cert`;

/**
 * Sets the pod template's certificate annotation to `fingerprint`, a rolling restart. The applied
 * object holds that one annotation and nothing else, as a field manager of its own: the options
 * install was run with (image, replicas, region…) are not known here, and applying the whole live
 * Deployment would make its every field, a sidecar another tool added included, ours, to be
 * removed by the next install. The next `webhook install` (which forces) takes the annotation
 * back with the same value, since it reads the same certificate.
 */
async function restartWithCertificate(
  cluster: ClusterObjects,
  manifest: KubeObject,
  fingerprint: string,
): Promise<void> {
  const namespace = manifest.metadata.namespace as string;
  if ((await cluster.read(deploymentRef(namespace))) === undefined)
    throw notInstalled(namespace, cluster.server);
  await cluster.apply(
    {
      apiVersion: manifest.apiVersion,
      kind: manifest.kind,
      metadata: { name: manifest.metadata.name, namespace },
      spec: { template: { metadata: { annotations: { [SERVING_CERTIFICATE_ANNOTATION]: fingerprint } } } },
    },
    { fieldManager: RENEW_FIELD_MANAGER },
  );
}

import {
  type ClusterObjects,
  type DeploymentProgress,
  describeRef,
  KubeError,
  type KubeObject,
  type KubeObjectRef,
  refOf,
  waitForDeployment,
} from "@irsa-anywhere/kube";
import type { WebhookKeyType } from "./certificates.js";
import { certificatesToInstall } from "./certificates-to-install.js";
import { readSecretText } from "./installed-objects.js";
import {
  WEBHOOK_CA_SECRET,
  WEBHOOK_NAME,
  WEBHOOK_TLS_SECRET,
  type WebhookManifestOptions,
  type WebhookObject,
  webhookManifests,
} from "./manifests.js";

/**
 * The field manager of every apply: what `uninstall` recognises as ours, with the label.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 */
export const WEBHOOK_FIELD_MANAGER = "irsa-anywhere";

/**
 * How to get the webhook's TLS: `yes` cert-manager, `no` certificates made here, `auto` cert-manager
 * when the cluster serves the cert-manager.io API group.
 *
 * @example
 * const choice: CertManagerChoice = "auto";
 */
export type CertManagerChoice = "auto" | "yes" | "no";

/**
 * The options of {@link planWebhookInstall}: the manifests' options, but TLS as a choice.
 *
 * @example
 * const options: WebhookInstallOptions = { namespace: "irsa-anywhere", replicas: 2, certManager: "auto" };
 */
export interface WebhookInstallOptions extends Omit<WebhookManifestOptions, "tls"> {
  certManager: CertManagerChoice;
  /** The key type of certificates made here; `ecdsa-p256` by default. */
  keyType?: WebhookKeyType;
  /** The moment certificates are judged and made at; now unless given. */
  now?: Date;
}

/**
 * One object of a plan and what applying it does: `create`, `change`, or nothing (`unchanged`).
 *
 * @example
 * const change: PlannedChange = { ref: { apiVersion: "v1", kind: "Namespace", name: "irsa-anywhere" }, action: "create" };
 */
export interface PlannedChange {
  ref: KubeObjectRef;
  action: "create" | "change" | "unchanged";
  /** The resourceVersion the object had when planned, if it existed. */
  resourceVersion?: string;
}

/**
 * What an install would do, as the API server answered a dry run of each object.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const plan: WebhookInstallPlan = await planWebhookInstall(cluster, { certManager: "auto" });
 * for (const change of plan.changes) console.log(change.action, describeRef(change.ref));
 */
export interface WebhookInstallPlan {
  namespace: string;
  tls: "cert-manager" | "secret";
  /** In `secret` mode, what of the certificates in the cluster is kept (see {@link certificatesToInstall}). */
  certificates: "cert-manager" | "kept" | "new serving certificate" | "new CA";
  /** The objects, in the order they are applied. */
  objects: WebhookObject[];
  changes: PlannedChange[];
}

/**
 * The manifests an install applies, with TLS settled for `yes` and `no`: no cluster needed
 * (`no` makes a new CA). For `auto`, and to keep the certificates already in a cluster, use
 * {@link planWebhookInstall}.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_OPTION_INVALID`.
 *
 * @example
 * const objects = webhookManifestsOffline({ namespace: "irsa-anywhere", certManager: "yes" });
 */
export function webhookManifestsOffline(
  options: WebhookInstallOptions & { certManager: "yes" | "no" },
): WebhookObject[] {
  const { certManager, keyType, now, ...manifestOptions } = options;
  webhookManifests({ ...manifestOptions, tls: { mode: "cert-manager" } }); // the options' checks, before keys are made
  if (certManager === "yes") return webhookManifests({ ...manifestOptions, tls: { mode: "cert-manager" } });
  const namespace = manifestOptions.namespace;
  const decision = certificatesToInstall(
    { ca: undefined, servingCertificatePem: undefined, servingKeyPem: undefined },
    {
      serviceName: WEBHOOK_NAME,
      namespace: namespace ?? "irsa-anywhere",
      ...(keyType && { keyType }),
      ...(now && { now }),
    },
  );
  return webhookManifests({
    ...manifestOptions,
    tls: { mode: "secret", certificates: decision.certificates },
  });
}

/**
 * The objects an install would apply to this cluster, without asking for more than reads:
 * cert-manager or not (`auto` asks the API server's discovery) and, without cert-manager, the
 * certificates (those in the cluster kept while they serve, see {@link certificatesToInstall}).
 * What `--manifests` writes for `--cert-manager auto`; {@link planWebhookInstall} goes on from it.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_OPTION_INVALID`, before any request.
 * @throws {KubeError} `ERR_CLUSTER_FORBIDDEN`, `ERR_CLUSTER_UNREACHABLE`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const { objects } = await resolveWebhookObjects(cluster, { certManager: "auto" });
 */
export async function resolveWebhookObjects(
  cluster: ClusterObjects,
  options: WebhookInstallOptions,
): Promise<Omit<WebhookInstallPlan, "changes">> {
  const { certManager, keyType, now, ...manifestOptions } = options;
  // Every option is checked before the first request.
  const namespace = webhookManifests({ ...manifestOptions, tls: { mode: "cert-manager" } })[0]?.metadata
    ?.name as string;
  const useCertManager =
    certManager === "yes" ||
    (certManager === "auto" && (await cluster.apiGroups()).includes("cert-manager.io"));
  let objects: WebhookObject[];
  let certificates: WebhookInstallPlan["certificates"] = "cert-manager";
  if (useCertManager) {
    objects = webhookManifests({ ...manifestOptions, tls: { mode: "cert-manager" } });
  } else {
    const secret = (name: string) =>
      cluster
        .read({ apiVersion: "v1", kind: "Secret", namespace, name })
        .then((found) => found && readSecretText(found));
    const [ca, serving] = await Promise.all([secret(WEBHOOK_CA_SECRET), secret(WEBHOOK_TLS_SECRET)]);
    const decision = certificatesToInstall(
      {
        ca:
          ca?.["ca.crt"] && ca["ca.key"] ? { certificatePem: ca["ca.crt"], keyPem: ca["ca.key"] } : undefined,
        servingCertificatePem: serving?.["tls.crt"],
        servingKeyPem: serving?.["tls.key"],
      },
      { serviceName: WEBHOOK_NAME, namespace, ...(keyType && { keyType }), ...(now && { now }) },
    );
    certificates = { all: "kept", ca: "new serving certificate", none: "new CA" }[
      decision.kept
    ] as WebhookInstallPlan["certificates"];
    objects = webhookManifests({
      ...manifestOptions,
      tls: { mode: "secret", certificates: decision.certificates },
    });
  }
  return { namespace, tls: useCertManager ? "cert-manager" : "secret", certificates, objects };
}

/**
 * Works out an install without changing anything: the objects ({@link resolveWebhookObjects}),
 * whether this identity may write each of them (a SelfSubjectAccessReview: nothing is
 * applied unless everything can be), and what applying each would do (a server-side dry run,
 * compared with the object as it is).
 *
 * @throws {WebhookError} `ERR_WEBHOOK_OPTION_INVALID`, before any request.
 * @throws {KubeError} `ERR_CLUSTER_FORBIDDEN` when this identity may not write an object, naming it;
 *   `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_WRITE_REFUSED`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const plan = await planWebhookInstall(cluster, { namespace: "irsa-anywhere", certManager: "auto" });
 */
export async function planWebhookInstall(
  cluster: ClusterObjects,
  options: WebhookInstallOptions,
): Promise<WebhookInstallPlan> {
  const { namespace, tls, certificates, objects } = await resolveWebhookObjects(cluster, options);
  const current = await Promise.all(objects.map((object) => cluster.read(refOf(asKubeObject(object)))));
  await assertMayWrite(
    cluster,
    objects.map((object, index) => ({
      ref: refOf(asKubeObject(object)),
      exists: current[index] !== undefined,
    })),
  );
  const namespaceExists = current[0] !== undefined;
  const changes: PlannedChange[] = [];
  for (const [index, object] of objects.entries()) {
    const ref = refOf(asKubeObject(object));
    const before = current[index];
    // A dry run in a namespace that does not exist yet is refused, as the real apply would not be.
    if (before === undefined || (!namespaceExists && ref.namespace !== undefined)) {
      changes.push({ ref, action: "create" });
      continue;
    }
    const after = await cluster.apply(asKubeObject(object), { dryRun: true });
    changes.push({
      ref,
      action: sameContent(before, after) ? "unchanged" : "change",
      ...(before.metadata.resourceVersion !== undefined && {
        resourceVersion: before.metadata.resourceVersion,
      }),
    });
  }
  return { namespace, tls, certificates, objects, changes };
}

/**
 * Applies a plan's objects in order (server-side apply, as {@link WEBHOOK_FIELD_MANAGER}), then
 * waits for the Deployment's replicas to be ready. The Secrets and the webhook configuration are
 * written only over the versions the plan read (a compare-and-swap): when another run changed
 * them meanwhile, this one fails with `ERR_CLUSTER_WRITE_REFUSED`, to be run again.
 *
 * @throws {KubeError} `ERR_DEPLOYMENT_NOT_READY` when the replicas are not ready within
 *   `timeoutMs`; `ERR_CLUSTER_FORBIDDEN`, `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_WRITE_REFUSED`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: WEBHOOK_FIELD_MANAGER });
 * const plan = await planWebhookInstall(cluster, { certManager: "auto" });
 * await installWebhook(cluster, plan, { timeoutMs: 120_000, onProgress: ({ ready, desired }) => console.error(`${ready}/${desired} ready`) });
 */
export async function installWebhook(
  cluster: ClusterObjects,
  plan: WebhookInstallPlan,
  options: { timeoutMs: number; onProgress?: (progress: DeploymentProgress) => void },
): Promise<void> {
  for (const [index, object] of plan.objects.entries()) {
    const applied = asKubeObject(object);
    // The Secrets and the webhook configuration's CA bundle were decided from what was read:
    // each is written only over the version read, so that a run which read something else (a new
    // CA another run made meanwhile) fails instead of leaving a bundle that is not the CA's.
    const planned = plan.changes[index]?.resourceVersion;
    if (carriesCertificates(applied) && planned !== undefined) applied.metadata.resourceVersion = planned;
    await cluster.apply(applied);
  }
  await waitForDeployment(cluster, {
    namespace: plan.namespace,
    name: WEBHOOK_NAME,
    timeoutMs: options.timeoutMs,
    ...(options.onProgress && { onProgress: options.onProgress }),
  });
}

/** The objects whose content follows from the certificates: the Secrets and the CA bundle. */
function carriesCertificates(object: KubeObject): boolean {
  return object.kind === "Secret" || object.kind === "MutatingWebhookConfiguration";
}

/** A typed manifest as the plain JSON the API server takes. */
export function asKubeObject(object: WebhookObject): KubeObject {
  return JSON.parse(JSON.stringify(object)) as KubeObject;
}

/**
 * Throws, naming the first object and how many more, unless this identity may write every one:
 * patch, and create for those not there yet. Asked before anything is written, so that a
 * kubeconfig without the rights changes nothing.
 */
export async function assertMayWrite(
  cluster: ClusterObjects,
  targets: ReadonlyArray<{ ref: KubeObjectRef; exists: boolean; verb?: "delete" }>,
): Promise<void> {
  const denied: string[] = [];
  await Promise.all(
    targets.map(async ({ ref, exists, verb }) => {
      const verbs = verb ? [verb] : exists ? (["patch"] as const) : (["create", "patch"] as const);
      for (const each of verbs) {
        if (!(await cluster.mayWrite(ref, each))) denied.push(`${each} ${describeRef(ref)}`);
      }
    }),
  );
  if (denied.length > 0) {
    throw new KubeError(
      "ERR_CLUSTER_FORBIDDEN",
      `${cluster.server} does not let this identity ${denied[0]}${denied.length > 1 ? ` (nor ${denied.length - 1} more)` : ""}, so nothing was changed; use a kubeconfig of a cluster admin`,
    );
  }
}

/** Equal apart from what the API server keeps for itself (versions, managers, status). */
export function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (object: KubeObject) => {
    const { resourceVersion, managedFields, generation, creationTimestamp, uid, ...metadata } =
      object.metadata;
    const { status, ...rest } = object;
    return canonical({ ...rest, metadata });
  };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([key, inner]) => [key, canonical(inner)]),
  );
}

import { loadKube } from "./lib/kube.js";
import { publicKeysFromSecretData } from "./secret.js";
import type { PublicSigningKey } from "./signing-key.js";

/** How to reach a cluster: a kubeconfig file and context, or the defaults. */
export interface KubeconfigOptions {
  /** A kubeconfig file; default `KUBECONFIG`, `~/.kube/config`, or the in-cluster config in a pod. */
  kubeconfig?: string | undefined;
  /** A context of the kubeconfig; default its current context. */
  context?: string | undefined;
}

export interface ClusterKeyOptions extends KubeconfigOptions {
  /** The cluster's name; the secret read is `<cluster>-sa`, as EKS Anywhere names it. */
  cluster: string;
  /** Default `eksa-system`. */
  namespace?: string | undefined;
  /** How long to wait for the API server's answer; default (and at most) 30 s. */
  timeoutMs?: number | undefined;
}

/**
 * Reads the public keys of the cluster's service-account key secret (`<cluster>-sa`) through
 * the Kubernetes API, with the user's kubeconfig or the pod's in-cluster config. Only the
 * public halves leave this function.
 *
 * It loads `@irsa-anywhere/kube` (an optional peer dependency: install it to read a cluster) on
 * first use, so that callers who never read a cluster never load a Kubernetes client.
 *
 * @throws {KubeError} (of `@irsa-anywhere/kube`) `ERR_KUBECONFIG_INVALID`, `ERR_CLUSTER_UNREACHABLE`,
 *   `ERR_CLUSTER_FORBIDDEN`, `ERR_CLUSTER_SECRET_NOT_FOUND`.
 * @throws {KeysError} the secret's own codes.
 *
 * @example
 * const keys = await publicKeysFromCluster({ cluster: "prod", kubeconfig: "prod.kubeconfig" });
 */
export async function publicKeysFromCluster(options: ClusterKeyOptions): Promise<PublicSigningKey[]> {
  const { keys } = await readClusterSecretKeys(options);
  return keys;
}

/**
 * @internal
 * The secret's public keys and, when it has one, its private key's PEM (`tls.key`): what
 * {@link readKeySources} needs to read the secret once for both.
 */
export async function readClusterSecretKeys(
  options: ClusterKeyOptions,
): Promise<{ keys: PublicSigningKey[]; privateKeyPem: string | undefined; origin: string }> {
  const namespace = options.namespace ?? "eksa-system";
  const name = `${options.cluster}-sa`;
  const kube = await loadKube();
  const data = await kube.readClusterSecret({
    namespace,
    name,
    kubeconfig: options.kubeconfig,
    context: options.context,
    timeoutMs: options.timeoutMs,
  });
  const text = (field: string) => {
    const value = data[field];
    return value === undefined ? undefined : Buffer.from(value).toString("utf8");
  };
  const origin = `secret ${namespace}/${name}`;
  const fields = { "tls.crt": text("tls.crt"), "tls.key": text("tls.key") };
  return { keys: publicKeysFromSecretData(fields, origin, "text"), privateKeyPem: fields["tls.key"], origin };
}

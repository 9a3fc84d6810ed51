import { KeysError } from "./errors.js";
import { firstLine, type KubeconfigOptions, loadKubeconfig, withTimeout } from "./lib/kubeconfig.js";
import { trackRequest } from "./requests-in-flight.js";
import { publicKeysFromSecretData } from "./secret.js";
import type { PublicSigningKey } from "./signing-key.js";

export interface ClusterKeyOptions extends KubeconfigOptions {
  /** The cluster's name; the secret read is `<cluster>-sa`, as EKS Anywhere names it. */
  cluster: string;
  /** Default `eksa-system`. */
  namespace?: string;
  /** How long to wait for the API server's answer; default 30 s. */
  timeoutMs?: number;
}

/**
 * Reads the public keys of the cluster's service-account key secret (`<cluster>-sa`) through
 * the Kubernetes API, with the user's kubeconfig or the pod's in-cluster config. Only the
 * public halves leave this function.
 *
 * The Kubernetes client is imported here, on first use, so that callers who never read a
 * cluster never load it.
 *
 * @throws {KeysError} `ERR_KUBECONFIG_INVALID`, `ERR_CLUSTER_UNREACHABLE`,
 *   `ERR_CLUSTER_FORBIDDEN`, `ERR_CLUSTER_SECRET_NOT_FOUND`, or the secret's own codes.
 *
 * @example
 * const keys = await publicKeysFromCluster({ cluster: "prod", kubeconfig: "prod.kubeconfig" });
 */
export async function publicKeysFromCluster(options: ClusterKeyOptions): Promise<PublicSigningKey[]> {
  const namespace = options.namespace ?? "eksa-system";
  const name = `${options.cluster}-sa`;
  const { k8s, config, server } = await loadKubeconfig(options);
  const api = config.makeApiClient(k8s.CoreV1Api);
  let secret: Awaited<ReturnType<typeof api.readNamespacedSecret>>;
  try {
    secret = await trackRequest(
      { service: "the Kubernetes API", endpoint: server, operation: `get secret ${namespace}/${name}` },
      withTimeout(api.readNamespacedSecret({ name, namespace }), options.timeoutMs ?? 30_000),
    );
  } catch (error) {
    throw clusterError(error, { name, namespace, server });
  }
  return publicKeysFromSecretData(secret.data ?? {}, `secret ${namespace}/${name}`);
}

function clusterError(error: unknown, at: { name: string; namespace: string; server: string }): KeysError {
  const status = (error as { code?: unknown }).code;
  if (status === 404) {
    return new KeysError(
      "ERR_CLUSTER_SECRET_NOT_FOUND",
      // A workload cluster's <name>-sa secret lives in its management cluster, not in itself:
      // the likeliest cause when the workload cluster's own kubeconfig was given.
      `no secret ${at.name} in namespace ${at.namespace} on ${at.server}; check --cluster (the secret is <cluster>-sa) and --namespace; for a workload cluster, the secret is in its management cluster: give --kubeconfig <mgmt>/<mgmt>-eks-a-cluster.kubeconfig, the management cluster's`,
    );
  }
  if (status === 401 || status === 403) {
    return new KeysError(
      "ERR_CLUSTER_FORBIDDEN",
      `${at.server} refused to let this identity get secret ${at.namespace}/${at.name} (HTTP ${status}); grant "get" on that secret, or use a kubeconfig that has it`,
    );
  }
  return new KeysError(
    "ERR_CLUSTER_UNREACHABLE",
    `cannot read secret ${at.namespace}/${at.name} from ${at.server}: ${firstLine(error)}; check that the cluster is up and the kubeconfig points at it`,
    { cause: error },
  );
}

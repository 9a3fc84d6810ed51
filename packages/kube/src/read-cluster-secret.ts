import { firstLine } from "@irsa-anywhere/errors";
import { KubeError } from "./errors.js";
import { type KubeconfigOptions, loadKubeconfig } from "./lib/kubeconfig.js";
import { httpStatus, kubeRequest } from "./lib/request.js";
import { kubernetesTimeoutMs } from "./timeout.js";

export interface ClusterSecretOptions extends KubeconfigOptions {
  /** The secret's namespace, e.g. `eksa-system`. */
  namespace: string;
  /** The secret's name, e.g. `prod-sa`. */
  name: string;
  /** The caller's overall deadline; no request waits longer than {@link kubernetesTimeoutMs} of it. */
  timeoutMs?: number | undefined;
}

/** A secret's `data`, each value decoded from the API's base64 into its bytes. */
export type SecretData = Record<string, Uint8Array>;

/**
 * Reads one secret's `data` through the Kubernetes API (CoreV1Api), with the user's kubeconfig
 * or the pod's in-cluster config.
 *
 * @throws {KubeError} `ERR_KUBECONFIG_INVALID`, `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_FORBIDDEN`,
 *   `ERR_CLUSTER_SECRET_NOT_FOUND`.
 *
 * @example
 * const data = await readClusterSecret({ namespace: "eksa-system", name: "prod-sa", kubeconfig: "prod.kubeconfig" });
 * const crt = Buffer.from(data["tls.crt"] ?? []).toString("utf8");
 */
export async function readClusterSecret(options: ClusterSecretOptions): Promise<SecretData> {
  const { namespace, name } = options;
  const { k8s, config, server } = await loadKubeconfig(options);
  const api = config.makeApiClient(k8s.CoreV1Api);
  let secret: Awaited<ReturnType<typeof api.readNamespacedSecret>>;
  try {
    secret = await kubeRequest(
      {
        server,
        operation: `get secret ${namespace}/${name}`,
        timeoutMs: kubernetesTimeoutMs(options.timeoutMs),
      },
      api.readNamespacedSecret({ name, namespace }),
    );
  } catch (error) {
    throw secretError(error, { name, namespace, server });
  }
  const data: SecretData = {};
  for (const [field, value] of Object.entries(secret.data ?? {})) {
    data[field] = Buffer.from(value, "base64");
  }
  return data;
}

function secretError(error: unknown, at: { name: string; namespace: string; server: string }): KubeError {
  const status = httpStatus(error);
  if (status === 404) {
    return new KubeError(
      "ERR_CLUSTER_SECRET_NOT_FOUND",
      // A workload cluster's <name>-sa secret lives in its management cluster, not in itself:
      // the likeliest cause when the workload cluster's own kubeconfig was given.
      `no secret ${at.name} in namespace ${at.namespace} on ${at.server}; check --cluster (the secret is <cluster>-sa) and --namespace; for a workload cluster, the secret is in its management cluster: give --kubeconfig <mgmt>/<mgmt>-eks-a-cluster.kubeconfig, the management cluster's`,
    );
  }
  if (status === 401 || status === 403) {
    return new KubeError(
      "ERR_CLUSTER_FORBIDDEN",
      `${at.server} refused to let this identity get secret ${at.namespace}/${at.name} (HTTP ${status}); grant "get" on that secret, or use a kubeconfig that has it`,
    );
  }
  return new KubeError(
    "ERR_CLUSTER_UNREACHABLE",
    `cannot read secret ${at.namespace}/${at.name} from ${at.server}: ${firstLine(error)}; check that the cluster is up and the kubeconfig points at it`,
    { cause: error },
  );
}

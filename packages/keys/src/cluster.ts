import type { KubeConfig } from "@kubernetes/client-node";
import { KeysError } from "./errors.js";
import { publicKeysFromSecretData } from "./secret.js";
import type { PublicSigningKey } from "./signing-key.js";

export interface ClusterKeyOptions {
  /** The cluster's name; the secret read is `<cluster>-sa`, as EKS Anywhere names it. */
  cluster: string;
  /** Default `eksa-system`. */
  namespace?: string;
  /** A kubeconfig file; default `KUBECONFIG`, `~/.kube/config`, or the in-cluster config in a pod. */
  kubeconfig?: string;
  /** A context of the kubeconfig; default its current context. */
  context?: string;
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
  const k8s = await import("@kubernetes/client-node");
  const config = new k8s.KubeConfig();
  try {
    if (options.kubeconfig === undefined) config.loadFromDefault();
    else config.loadFromFile(options.kubeconfig);
  } catch (error) {
    throw new KeysError(
      "ERR_KUBECONFIG_INVALID",
      `cannot load the kubeconfig ${options.kubeconfig ?? "(KUBECONFIG or ~/.kube/config)"}: ${firstLine(error)}; check --kubeconfig`,
    );
  }
  if (options.context !== undefined) {
    if (!config.getContextObject(options.context)) {
      throw new KeysError(
        "ERR_KUBECONFIG_INVALID",
        `the kubeconfig has no context "${options.context}"; list them with kubectl config get-contexts`,
      );
    }
    config.setCurrentContext(options.context);
  }
  const server =
    options.kubeconfig === undefined && isNoConfigFallback(config)
      ? undefined
      : config.getCurrentCluster()?.server;
  if (!server) {
    throw new KeysError(
      "ERR_KUBECONFIG_INVALID",
      "the kubeconfig names no cluster to talk to; give --kubeconfig (and --context) for the cluster, or run inside it",
    );
  }
  const api = config.makeApiClient(k8s.CoreV1Api);
  let secret: Awaited<ReturnType<typeof api.readNamespacedSecret>>;
  try {
    secret = await withTimeout(api.readNamespacedSecret({ name, namespace }), options.timeoutMs ?? 30_000);
  } catch (error) {
    throw clusterError(error, { name, namespace, server });
  }
  return publicKeysFromSecretData(secret.data ?? {}, `secret ${namespace}/${name}`);
}

/**
 * With no KUBECONFIG, no ~/.kube/config and no pod service account, `loadFromDefault` does not
 * fail: it falls back to http://localhost:8080 under a context it names "loaded-context", which
 * every request then refuses (plain HTTP). Spot that fallback so the user hears what is missing.
 */
function isNoConfigFallback(config: KubeConfig): boolean {
  return (
    config.getCurrentContext() === "loaded-context" &&
    config.getCurrentCluster()?.server === "http://localhost:8080"
  );
}

/** The client has no timeout of its own: an API server that accepts and never answers would hang us. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function clusterError(error: unknown, at: { name: string; namespace: string; server: string }): KeysError {
  const status = (error as { code?: unknown }).code;
  if (status === 404) {
    return new KeysError(
      "ERR_CLUSTER_SECRET_NOT_FOUND",
      `no secret ${at.name} in namespace ${at.namespace} on ${at.server}; check --cluster (the secret is <cluster>-sa) and --namespace`,
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

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? "unknown error";
}

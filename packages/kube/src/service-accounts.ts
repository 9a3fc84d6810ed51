import { type KubeconfigOptions, loadKubeconfig } from "./lib/kubeconfig.js";
import { requests } from "./lib/request.js";
import { kubernetesTimeoutMs } from "./timeout.js";

/** A service account as the role commands see it: its name and its metadata's maps. */
export interface ServiceAccountState {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

/**
 * What the role commands ask of a cluster about service accounts: plain data in and out, so that
 * a caller can hand in a client of its own (another transport, a test double of the whole API).
 */
export interface ServiceAccountClient {
  /** The API server's URL, for messages. */
  readonly server: string;
  /** Whether the namespace exists. */
  namespaceExists(namespace: string): Promise<boolean>;
  /** The service account, or `undefined` when there is none. */
  readServiceAccount(namespace: string, name: string): Promise<ServiceAccountState | undefined>;
  /** Creates the service account with these annotations. */
  createServiceAccount(
    namespace: string,
    name: string,
    annotations: Record<string, string>,
  ): Promise<ServiceAccountState>;
  /**
   * Sets (a string) or removes (`null`) these annotations with one JSON merge patch (RFC 7386),
   * so that every other annotation and label stays as it is.
   */
  patchServiceAccountAnnotations(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<ServiceAccountState>;
}

export interface ServiceAccountClientOptions extends KubeconfigOptions {
  /** The caller's overall deadline; no request waits longer than {@link kubernetesTimeoutMs} of it. */
  timeoutMs?: number | undefined;
}

/**
 * A {@link ServiceAccountClient} over the kubeconfig's cluster (CoreV1Api), every request under
 * the one timeout policy.
 *
 * @throws {KubeError} `ERR_KUBECONFIG_INVALID` here; its methods `ERR_CLUSTER_UNREACHABLE` and
 *   `ERR_CLUSTER_FORBIDDEN`.
 *
 * @example
 * const cluster = await connectServiceAccounts({ kubeconfig: "prod.kubeconfig" });
 * const account = await cluster.readServiceAccount("payments", "api");
 * console.log(account?.annotations["eks.amazonaws.com/role-arn"]);
 */
export async function connectServiceAccounts(
  options: ServiceAccountClientOptions,
): Promise<ServiceAccountClient> {
  const { k8s, config, server } = await loadKubeconfig(options);
  const api = config.makeApiClient(k8s.CoreV1Api);
  const timeoutMs = kubernetesTimeoutMs(options.timeoutMs);
  const { call, absentOn404 } = requests(server, timeoutMs);
  return {
    server,
    async namespaceExists(namespace) {
      const found = await absentOn404(`get namespace ${namespace}`, () =>
        api.readNamespace({ name: namespace }),
      );
      return found !== undefined;
    },
    async readServiceAccount(namespace, name) {
      const found = await absentOn404(`get serviceaccount ${namespace}/${name}`, () =>
        api.readNamespacedServiceAccount({ name, namespace }),
      );
      return found && stateOf(found, namespace, name);
    },
    async createServiceAccount(namespace, name, annotations) {
      const created = await call(`create serviceaccount ${namespace}/${name}`, () =>
        api.createNamespacedServiceAccount({
          namespace,
          body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, annotations } },
        }),
      );
      return stateOf(created, namespace, name);
    },
    async patchServiceAccountAnnotations(namespace, name, annotations) {
      const patched = await call(`patch serviceaccount ${namespace}/${name}`, () =>
        api.patchNamespacedServiceAccount(
          { name, namespace, body: { metadata: { annotations } } },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        ),
      );
      return stateOf(patched, namespace, name);
    },
  };
}

function stateOf(
  object: { metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> } },
  namespace: string,
  name: string,
): ServiceAccountState {
  return {
    namespace,
    name,
    annotations: { ...object.metadata?.annotations },
    labels: { ...object.metadata?.labels },
  };
}

import { KubeError } from "./errors.js";
import { type KubeconfigOptions, loadKubeconfig } from "./lib/kubeconfig.js";
import { requests } from "./lib/request.js";
import { kubernetesTimeoutMs } from "./timeout.js";

/**
 * Any Kubernetes object, as plain JSON data: what {@link ClusterObjects} applies and returns.
 *
 * @example
 * const namespace: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "irsa-anywhere" } };
 */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    managedFields?: Array<{ manager?: string; operation?: string; subresource?: string }>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/**
 * Which object: its kind (apiVersion and kind), name and, when namespaced, namespace.
 *
 * @example
 * const ref: KubeObjectRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "irsa-anywhere", name: "pod-identity-webhook" };
 */
export interface KubeObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
}

/**
 * Reading and writing any kind of object on one API server, as one field manager.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: "irsa-anywhere" });
 * const existing = await cluster.read({ apiVersion: "v1", kind: "Namespace", name: "irsa-anywhere" });
 */
export interface ClusterObjects {
  /** The API server's URL, for messages. */
  readonly server: string;
  /**
   * Server-side apply (`application/apply-patch+yaml`) as the field manager, with `force` so that
   * this manager takes back the fields it declares. A `metadata.resourceVersion` in the object
   * makes the write a compare-and-swap. `dryRun` asks the API server what it would store.
   */
  apply(object: KubeObject, options?: { dryRun?: boolean }): Promise<KubeObject>;
  /** The object, or `undefined` when there is none. */
  read(ref: KubeObjectRef): Promise<KubeObject | undefined>;
  /** Deletes the object; `false` when there was none. */
  remove(ref: KubeObjectRef, options?: { dryRun?: boolean }): Promise<boolean>;
  /** The objects of a kind with the labels (`key=value,...`), in one namespace or, without, all. */
  list(
    kind: { apiVersion: string; kind: string },
    labelSelector: string,
    namespace?: string,
  ): Promise<KubeObject[]>;
  /** The API groups the server serves (`apps`, `cert-manager.io`, ...), from discovery. */
  apiGroups(): Promise<string[]>;
  /** Whether this identity may `verb` the object (a SelfSubjectAccessReview), before trying. */
  mayWrite(ref: KubeObjectRef, verb: "create" | "patch" | "delete"): Promise<boolean>;
}

export interface ClusterObjectsOptions extends KubeconfigOptions {
  /** The field manager of every apply, e.g. `irsa-anywhere`. */
  fieldManager: string;
  /** The caller's overall deadline; no request waits longer than {@link kubernetesTimeoutMs} of it. */
  timeoutMs?: number | undefined;
}

/**
 * Connects to the kubeconfig's cluster for reading and writing objects of any kind, through
 * client-node's KubernetesObjectApi (which finds each kind's resource by discovery). Every
 * request is under the one timeout policy; every failure is a {@link KubeError} of one line.
 *
 * @throws {KubeError} `ERR_KUBECONFIG_INVALID`; its methods `ERR_CLUSTER_FORBIDDEN`,
 *   `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_WRITE_REFUSED`.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: "irsa-anywhere" });
 * await cluster.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "irsa-anywhere" } });
 */
export async function connectClusterObjects(options: ClusterObjectsOptions): Promise<ClusterObjects> {
  const { k8s, config, server } = await loadKubeconfig(options);
  const api = k8s.KubernetesObjectApi.makeApiClient(config);
  const timeoutMs = kubernetesTimeoutMs(options.timeoutMs);
  const { call, absentOn404 } = requests(server, timeoutMs);
  const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as KubeObject;
  const spec = (ref: KubeObjectRef) => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) },
  });
  return {
    server,
    async apply(object, { dryRun = false } = {}) {
      const applied = await call(`apply ${describeRef(refOf(object))}`, () =>
        api.patch(
          plain(object),
          undefined,
          dryRun ? "All" : undefined,
          options.fieldManager,
          true,
          k8s.PatchStrategy.ServerSideApply,
        ),
      );
      return plain(applied);
    },
    async read(ref) {
      const found = await absentOn404(`get ${describeRef(ref)}`, () => api.read(spec(ref)));
      return found === undefined ? undefined : plain(found);
    },
    async remove(ref, { dryRun = false } = {}) {
      const removed = await absentOn404(`delete ${describeRef(ref)}`, () =>
        api.delete(spec(ref), undefined, dryRun ? "All" : undefined, undefined, undefined, "Foreground"),
      );
      return removed !== undefined;
    },
    async list(kind, labelSelector, namespace) {
      const where = namespace === undefined ? "" : ` in namespace ${namespace}`;
      const answer = await call(`list ${kind.kind} objects${where}`, () =>
        api.list(
          kind.apiVersion,
          kind.kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          labelSelector,
        ),
      );
      return (answer.items ?? []).map((item) => ({
        ...plain(item),
        apiVersion: kind.apiVersion,
        kind: kind.kind,
      }));
    },
    async apiGroups() {
      const groups = await call("discover API groups", () =>
        config.makeApiClient(k8s.ApisApi).getAPIVersions(),
      );
      return groups.groups.map((group) => group.name);
    },
    async mayWrite(ref, verb) {
      // The resource name of a kind, from the discovery KubernetesObjectApi already does and caches
      // for every call (protected there, though the one lookup an access review needs).
      const discovery = api as unknown as {
        resource(apiVersion: string, kind: string): Promise<{ name: string } | undefined>;
      };
      const resource = await call(`discover ${ref.apiVersion} ${ref.kind}`, () =>
        discovery.resource(ref.apiVersion, ref.kind),
      );
      if (resource === undefined) {
        throw new KubeError(
          "ERR_CLUSTER_WRITE_REFUSED",
          `${server} does not serve ${ref.kind} (${ref.apiVersion}); install what provides it (a CRD) or check the cluster's version`,
        );
      }
      const group = ref.apiVersion.includes("/") ? (ref.apiVersion.split("/")[0] as string) : "";
      const review = await call(`review access to ${verb} ${describeRef(ref)}`, () =>
        config.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({
          body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: {
              resourceAttributes: {
                group,
                resource: resource.name,
                verb,
                name: ref.name,
                ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
              },
            },
          },
        }),
      );
      return review.status?.allowed === true;
    },
  };
}

/**
 * The reference of an object: its kind, namespace and name.
 *
 * @example
 * refOf({ apiVersion: "v1", kind: "Namespace", metadata: { name: "irsa-anywhere" } }); // { apiVersion: "v1", kind: "Namespace", name: "irsa-anywhere", namespace: undefined }
 */
export function refOf(object: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string | undefined };
}): KubeObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    namespace: object.metadata.namespace,
  };
}

/**
 * An object as people name it: `Deployment irsa-anywhere/pod-identity-webhook`.
 *
 * @example
 * describeRef({ apiVersion: "v1", kind: "Namespace", name: "irsa-anywhere" }); // "Namespace irsa-anywhere"
 */
export function describeRef(ref: KubeObjectRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? "" : `${ref.namespace}/`}${ref.name}`;
}

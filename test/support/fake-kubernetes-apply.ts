// What the fake API server (fake-kubernetes.ts) answers beyond reads and plain writes, as
// kube-apiserver does: discovery of API groups and resources, server-side apply
// (`application/apply-patch+yaml`) with field managers and dry runs, SelfSubjectAccessReviews,
// collections listed by label, deletes of cluster-scoped objects (a namespace takes its objects
// with it), and the Deployment controller's status, ready or never ready.
import { validateKubernetesObject } from "./kubernetes-models.js";

/** One resource the fake serves: its group/version, plural, kind and scope. */
export interface FakeResource {
  apiVersion: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const builtIn: FakeResource[] = [
  ["v1", "namespaces", "Namespace", false],
  ["v1", "configmaps", "ConfigMap", true],
  ["v1", "pods", "Pod", true],
  ["v1", "secrets", "Secret", true],
  ["v1", "serviceaccounts", "ServiceAccount", true],
  ["v1", "services", "Service", true],
  ["apps/v1", "deployments", "Deployment", true],
  ["policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", true],
  ["rbac.authorization.k8s.io/v1", "roles", "Role", true],
  ["rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", true],
  ["rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", false],
  ["rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", false],
  ["admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false],
  ["authorization.k8s.io/v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false],
].map(([apiVersion, plural, kind, namespaced]) => ({
  apiVersion: apiVersion as string,
  plural: plural as string,
  kind: kind as string,
  namespaced: namespaced as boolean,
}));

/** cert-manager's kinds, for {@link ApplyExtension.installCustomResources}. */
export const CERT_MANAGER_RESOURCES: FakeResource[] = [
  { apiVersion: "cert-manager.io/v1", plural: "issuers", kind: "Issuer", namespaced: true },
  { apiVersion: "cert-manager.io/v1", plural: "certificates", kind: "Certificate", namespaced: true },
];

/** One apply the fake took: where, what, as which field manager, and whether it was a dry run. */
export interface AppliedObject {
  path: string;
  object: Record<string, unknown>;
  fieldManager: string;
  dryRun: boolean;
}

type Answer = { code: number; body: object };

/** @internal The part of the fake that answers these requests; fake-kubernetes.ts routes to it. */
export class ApplyExtension {
  /** Every server-side apply, in order, dry runs included. */
  readonly applied: AppliedObject[] = [];
  /** Paths this identity may read but not write. */
  readonly readOnly = new Set<string>();
  /** Whether an applied Deployment's pods become ready (the controller's status says so). */
  deploymentsBecomeReady = true;
  private readonly custom: FakeResource[] = [];

  constructor(
    private readonly objects: Map<string, object>,
    private readonly forbidden: Set<string>,
    private readonly nextResourceVersion: () => string,
  ) {}

  /** Serves custom resources (as their CRDs would), e.g. {@link CERT_MANAGER_RESOURCES}. */
  installCustomResources(resources: readonly FakeResource[]): void {
    this.custom.push(...resources);
  }

  private get resources(): FakeResource[] {
    return [...builtIn, ...this.custom];
  }

  /** The answer to a request this extension handles, or `undefined` for the fake's own handling. */
  answer(
    method: string | undefined,
    path: string,
    query: string,
    body: unknown,
    contentType: string | undefined,
  ): Answer | undefined {
    const params = new URLSearchParams(query);
    // Names with colons (RBAC's) arrive escaped; the fake keeps objects under their plain paths.
    const escaped = path;
    path = decodeURIComponent(path);
    if (method === "GET" && path !== escaped && this.objects.has(path)) {
      return { code: 200, body: this.objects.get(path) as object };
    }
    if (method !== "GET" && this.readOnly.has(path)) {
      return refuse(
        403,
        "Forbidden",
        `${path} is forbidden: User "reader" cannot ${method?.toLowerCase()} it`,
      );
    }
    if (method === "GET" && !this.objects.has(path)) {
      const discovery = this.discovery(path);
      if (discovery) return { code: 200, body: discovery };
      const at = this.locate(path);
      if (at?.name === undefined && at !== undefined)
        return { code: 200, body: this.list(at, params.get("labelSelector")) };
      return undefined;
    }
    if (method === "POST" && path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
      return { code: 201, body: this.review(body) };
    }
    const patchType = contentType?.split(";")[0];
    if (
      method === "PATCH" &&
      (patchType === "application/apply-patch+yaml" || patchType === "application/apply-patch+json")
    ) {
      return this.apply(path, body, params);
    }
    const at = this.locate(path);
    if (
      method === "DELETE" &&
      at?.name !== undefined &&
      (params.get("dryRun") === "All" || !at.resource.namespaced)
    ) {
      return this.remove(path, at.resource, params.get("dryRun") === "All");
    }
    return undefined;
  }

  private discovery(path: string): object | undefined {
    if (path === "/api") return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] };
    const groupVersions = [...new Set(this.resources.map((r) => r.apiVersion))];
    if (path === "/apis") {
      const groups = [
        ...new Set(groupVersions.filter((v) => v.includes("/")).map((v) => v.split("/")[0] as string)),
      ];
      return {
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: groups.map((name) => {
          const versions = groupVersions
            .filter((v) => v.startsWith(`${name}/`))
            .map((groupVersion) => ({ groupVersion, version: groupVersion.split("/")[1] }));
          return { name, versions, preferredVersion: versions[0] };
        }),
      };
    }
    const groupVersion = path === "/api/v1" ? "v1" : path.replace(/^\/apis\//, "");
    if (!(path === "/api/v1" || path.startsWith("/apis/")) || !groupVersions.includes(groupVersion))
      return undefined;
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion,
      resources: this.resources
        .filter((r) => r.apiVersion === groupVersion)
        .map((r) => ({
          name: r.plural,
          singularName: r.kind.toLowerCase(),
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
        })),
    };
  }

  /** The resource, namespace and name a path names, when it is a resource the fake serves. */
  private locate(path: string): { resource: FakeResource; namespace?: string; name?: string } | undefined {
    const parts = path.split("/").slice(1);
    const [root, ...rest] = parts;
    const apiVersion =
      root === "api" ? rest.shift() : root === "apis" ? `${rest.shift()}/${rest.shift()}` : undefined;
    const namespaced = rest[0] === "namespaces" && rest.length >= 3;
    const [plural, name, extra] = namespaced ? rest.slice(2) : rest;
    const resource = this.resources.find((r) => r.apiVersion === apiVersion && r.plural === plural);
    if (resource === undefined || extra !== undefined || (namespaced && !resource.namespaced))
      return undefined;
    if (!namespaced && resource.namespaced && name !== undefined) return undefined;
    return { resource, ...(namespaced && { namespace: rest[1] }), ...(name !== undefined && { name }) };
  }

  private list(at: { resource: FakeResource; namespace?: string }, labelSelector: string | null): object {
    const { resource } = at;
    const base = resource.apiVersion === "v1" ? "/api/v1" : `/apis/${resource.apiVersion}`;
    const pattern =
      at.namespace !== undefined
        ? new RegExp(`^${base}/namespaces/${at.namespace}/${resource.plural}/[^/]+$`)
        : resource.namespaced
          ? new RegExp(`^${base}/namespaces/[^/]+/${resource.plural}/[^/]+$`)
          : new RegExp(`^${base}/${resource.plural}/[^/]+$`);
    const terms = (labelSelector ?? "")
      .split(",")
      .filter(Boolean)
      .map((term) => term.split("=") as [string, string]);
    const items = [...this.objects.entries()]
      .filter(([path]) => pattern.test(path))
      .map(([, object]) => object as { metadata?: { labels?: Record<string, string> } })
      .filter((object) => terms.every(([key, value]) => object.metadata?.labels?.[key] === value));
    return {
      apiVersion: resource.apiVersion,
      kind: `${resource.kind}List`,
      metadata: { resourceVersion: "1" },
      items,
    };
  }

  private review(body: unknown): object {
    const attributes =
      (body as { spec?: { resourceAttributes?: Record<string, string> } }).spec?.resourceAttributes ?? {};
    const resource = this.resources.find(
      (r) =>
        r.plural === attributes.resource &&
        (r.apiVersion.includes("/") ? r.apiVersion.split("/")[0] : "") === (attributes.group ?? ""),
    );
    const path = resource && pathOf(resource, attributes.namespace, attributes.name);
    const allowed = path !== undefined && !this.forbidden.has(path) && !this.readOnly.has(path);
    return {
      ...(body as object),
      status: { allowed, ...(allowed ? {} : { reason: "forbidden by the fake" }) },
    };
  }

  private apply(path: string, body: unknown, params: URLSearchParams): Answer {
    const at = this.locate(path);
    const fieldManager = params.get("fieldManager");
    const dryRun = params.get("dryRun") === "All";
    if (at?.name === undefined)
      return refuse(405, "MethodNotAllowed", `PATCH ${path} is not supported by the fake`);
    if (!fieldManager) return refuse(400, "BadRequest", "fieldManager is required for apply patch");
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return refuse(400, "BadRequest", "the body is not an object");
    const given = body as Record<string, unknown> & { metadata?: Record<string, unknown> };
    this.applied.push({ path, object: given, fieldManager, dryRun });
    const { resource, namespace, name } = at;
    if (
      given.apiVersion !== resource.apiVersion ||
      given.kind !== resource.kind ||
      given.metadata?.name !== name
    ) {
      return refuse(
        400,
        "BadRequest",
        `the applied object is not the ${resource.kind} ${name} its path names`,
      );
    }
    if (namespace !== undefined && !this.objects.has(`/api/v1/namespaces/${namespace}`)) {
      return refuse(404, "NotFound", `namespaces "${namespace}" not found`);
    }
    const before = this.objects.get(path) as Record<string, unknown> | undefined;
    const beforeMeta = (before?.metadata ?? {}) as Record<string, unknown>;
    const expected = given.metadata?.resourceVersion;
    if (expected !== undefined && expected !== beforeMeta.resourceVersion) {
      return refuse(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const { resourceVersion: _ignored, ...givenMeta } = given.metadata ?? {};
    let merged = mergeObjects(before ?? {}, { ...given, metadata: givenMeta }) as Record<string, unknown>;
    if (resource.kind === "Secret" && typeof merged.stringData === "object" && merged.stringData !== null) {
      // As kube-apiserver does: stringData is write-only, folded into data.
      const encoded = Object.fromEntries(
        Object.entries(merged.stringData).map(([key, value]) => [
          key,
          Buffer.from(String(value)).toString("base64"),
        ]),
      );
      const { stringData: _folded, ...rest } = merged;
      merged = { ...rest, data: { ...(rest.data as object), ...encoded } };
    }
    const managers = (
      (beforeMeta.managedFields ?? []) as Array<{ manager?: string; operation?: string }>
    ).slice();
    if (!managers.some((m) => m.manager === fieldManager && m.operation === "Apply")) {
      managers.push({
        manager: fieldManager,
        operation: "Apply",
        apiVersion: resource.apiVersion,
        fieldsType: "FieldsV1",
        fieldsV1: {},
      } as never);
    }
    const metadata = {
      ...(merged.metadata as object),
      name,
      ...(namespace !== undefined && { namespace }),
      managedFields: managers,
      resourceVersion: beforeMeta.resourceVersion,
      uid: beforeMeta.uid ?? `uid-${this.nextResourceVersion()}`,
      creationTimestamp: beforeMeta.creationTimestamp ?? "2026-01-01T00:00:00Z",
    } as Record<string, unknown>;
    let after: Record<string, unknown> = { ...merged, metadata };
    if (before !== undefined && same(before, after)) return { code: 200, body: before };
    if (resource.kind === "Deployment") after = this.deploymentController(before, after);
    if (before !== undefined && same(before, after)) return { code: 200, body: before };
    if (this.custom.includes(resource)) {
      if (typeof after.spec !== "object")
        return refuse(422, "Invalid", `${resource.kind}.spec: Required value`);
    } else {
      try {
        validateKubernetesObject(after as { apiVersion: string; kind: string });
      } catch (error) {
        return refuse(422, "Invalid", (error as Error).message);
      }
    }
    const stored = {
      ...after,
      metadata: {
        ...metadata,
        resourceVersion: dryRun ? (beforeMeta.resourceVersion ?? "0") : this.nextResourceVersion(),
      },
    };
    // Stored as kube-apiserver stores it; custom kinds bypass the schema check of objects.set.
    if (!dryRun) Map.prototype.set.call(this.objects, path, stored);
    return { code: before === undefined ? 201 : 200, body: stored };
  }

  /** The generation the spec is at, and the status the Deployment controller would report. */
  private deploymentController(
    before: Record<string, unknown> | undefined,
    after: Record<string, unknown>,
  ): Record<string, unknown> {
    const previous = (before?.metadata as { generation?: number } | undefined)?.generation ?? 0;
    const generation = before !== undefined && same(before.spec, after.spec) ? previous : previous + 1;
    const replicas = (after.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    const ready = this.deploymentsBecomeReady ? replicas : 0;
    return {
      ...after,
      metadata: { ...(after.metadata as object), generation },
      status: {
        observedGeneration: generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: ready,
        availableReplicas: ready,
      },
    };
  }

  private remove(path: string, resource: FakeResource, dryRun: boolean): Answer {
    const before = this.objects.get(path);
    if (before === undefined)
      return refuse(404, "NotFound", `${resource.plural} "${path.split("/").at(-1)}" not found`);
    if (!dryRun) {
      this.objects.delete(path);
      if (resource.kind === "Namespace") {
        const inside = `/namespaces/${path.split("/").at(-1)}/`;
        for (const key of [...this.objects.keys()]) if (key.includes(inside)) this.objects.delete(key);
      }
    }
    return { code: 200, body: before };
  }
}

function pathOf(resource: FakeResource, namespace: string | undefined, name: string | undefined): string {
  const base = resource.apiVersion === "v1" ? "/api/v1" : `/apis/${resource.apiVersion}`;
  const scope = resource.namespaced && namespace ? `/namespaces/${namespace}` : "";
  return `${base}${scope}/${resource.plural}${name ? `/${name}` : ""}`;
}

function refuse(code: number, reason: string, message: string): Answer {
  return {
    code,
    body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code },
  };
}

/** Objects merge member by member; anything else (lists too) the applied value replaces. */
function mergeObjects(target: unknown, patch: unknown): unknown {
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isObject(patch) || !isObject(target)) return patch;
  const merged: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) merged[key] = mergeObjects(merged[key], value);
  return merged;
}

/** Equal as JSON with keys in any order, apart from the resourceVersion. */
function same(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (typeof value !== "object" || value === null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "resourceVersion")
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([key, inner]) => [key, canonical(inner)]),
    );
  };
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

// The fake API server's own logic: it holds only objects kube-apiserver would hold, and it takes
// writes as kube-apiserver does, each recorded.
import { request } from "node:https";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubernetes, startFakeKubernetes } from "./fake-kubernetes.js";
import { type CertificateAuthority, createCertificateAuthority } from "./tls.js";

let ca: CertificateAuthority;
let api: FakeKubernetes;

beforeAll(async () => {
  ca = createCertificateAuthority();
  api = await startFakeKubernetes(ca);
});
beforeEach(() => {
  api.objects.clear();
  api.requests.length = 0;
});
afterAll(() => api?.close());

/** One call as a client makes it, with the token; the answer's status and JSON body. */
function call(
  method: string,
  path: string,
  body?: object,
  contentType = "application/json",
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${api.url}${path}`,
      {
        method,
        ca: ca.certPem,
        agent: false,
        headers: { authorization: `Bearer ${api.token}`, "content-type": contentType },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body && JSON.stringify(body));
  });
}

const configMaps = "/api/v1/namespaces/payments/configmaps";
const configMap = (data: Record<string, string>) => ({ metadata: { name: "settings" }, data });

describe("objects", () => {
  it.each([
    [
      "a service account with an annotation that is not a string",
      "/api/v1/namespaces/payments/serviceaccounts/api",
      { metadata: { name: "api", annotations: { replicas: 2 } } },
    ],
    [
      "a pod without containers",
      "/api/v1/namespaces/payments/pods/api-1",
      { metadata: { name: "api-1" }, spec: {} },
    ],
    [
      "a list whose items are of another kind",
      "/api/v1/namespaces/payments/pods",
      { kind: "PodList", items: [{ kind: "Secret" }] },
    ],
    [
      "a secret of a kind it is not",
      "/api/v1/namespaces/payments/secrets/prod-sa",
      { kind: "ConfigMap", data: { a: 1 } },
    ],
  ])("refuses %s", (_, path, object) => {
    expect(() => api.objects.set(path, object)).toThrow(/^invalid \w+: data\//);
    expect(api.objects.has(path)).toBe(false);
  });

  it("refuses an object of a resource it cannot name the kind of", () => {
    expect(() => api.objects.set("/apis/apps/v1/namespaces/payments/deployments/api", {})).toThrow(
      /give .* a kind/,
    );
  });

  it("serves an object with the apiVersion and kind its path names, as kube-apiserver does", async () => {
    api.objects.set("/api/v1/namespaces/payments/pods", {
      items: [{ metadata: { name: "api-1" }, spec: { containers: [{ name: "app" }] } }],
    });
    const { status, body } = await call("GET", "/api/v1/namespaces/payments/pods");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      apiVersion: "v1",
      kind: "PodList",
      items: [{ apiVersion: "v1", kind: "Pod" }],
    });
  });

  it("keeps what is not a resource (discovery documents, the JWKS) as given", () => {
    api.objects.set("/.well-known/openid-configuration", { issuer: "https://issuer.example" });
    expect(api.objects.get("/.well-known/openid-configuration")).toEqual({
      issuer: "https://issuer.example",
    });
  });
});

describe("writes", () => {
  it("creates, replaces, patches and deletes a namespaced object, and records each write", async () => {
    const created = await call("POST", configMaps, configMap({ mode: "a" }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: "ConfigMap", metadata: { namespace: "payments" } });
    const version = (created.body.metadata as { resourceVersion: string }).resourceVersion;

    const replaced = await call("PUT", `${configMaps}/settings`, {
      ...configMap({ mode: "b", extra: "x" }),
      metadata: { name: "settings", resourceVersion: version },
    });
    expect(replaced).toMatchObject({ status: 200, body: { data: { mode: "b", extra: "x" } } });

    const patched = await call(
      "PATCH",
      `${configMaps}/settings`,
      { data: { extra: null, mode: "c" } },
      "application/merge-patch+json",
    );
    expect(patched).toMatchObject({ status: 200, body: { data: { mode: "c" } } });
    expect(patched.body.data).toEqual({ mode: "c" });

    expect((await call("DELETE", `${configMaps}/settings`)).status).toBe(200);
    expect((await call("GET", `${configMaps}/settings`)).status).toBe(404);
    expect(api.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ["POST", configMaps, configMap({ mode: "a" })],
      ["PUT", `${configMaps}/settings`, expect.objectContaining({ data: { mode: "b", extra: "x" } })],
      ["PATCH", `${configMaps}/settings`, { data: { extra: null, mode: "c" } }],
      ["DELETE", `${configMaps}/settings`, undefined],
      ["GET", `${configMaps}/settings`, undefined],
    ]);
  });

  it("refuses a replace from a stale resourceVersion with 409, as a compare-and-swap", async () => {
    const created = await call("POST", configMaps, configMap({ mode: "a" }));
    const stale = (created.body.metadata as { resourceVersion: string }).resourceVersion;
    await call(
      "PATCH",
      `${configMaps}/settings`,
      { data: { mode: "b" } },
      "application/strategic-merge-patch+json",
    );
    const conflict = await call("PUT", `${configMaps}/settings`, {
      ...configMap({ mode: "lost" }),
      metadata: { name: "settings", resourceVersion: stale },
    });
    expect(conflict).toMatchObject({ status: 409, body: { kind: "Status", reason: "Conflict" } });
    expect(api.objects.get(`${configMaps}/settings`)).toMatchObject({ data: { mode: "b" } });
  });

  it.each([
    ["an object that exists already", "POST", configMaps, configMap({}), 409, "AlreadyExists"],
    ["an invalid object", "POST", configMaps, { metadata: { name: "x" }, data: { n: 1 } }, 422, "Invalid"],
    [
      "a write of an object that does not exist",
      "PUT",
      `${configMaps}/absent`,
      configMap({}),
      404,
      "NotFound",
    ],
    [
      "a JSON patch",
      "PATCH",
      `${configMaps}/settings`,
      [{ op: "remove", path: "/data" }],
      415,
      "UnsupportedMediaType",
    ],
  ])("refuses %s and changes nothing", async (_, method, path, body, status, reason) => {
    api.objects.set(`${configMaps}/settings`, {
      ...configMap({ mode: "a" }),
      metadata: { name: "settings", namespace: "payments" },
    });
    const before = api.objects.get(`${configMaps}/settings`);
    const contentType = method === "PATCH" ? "application/json-patch+json" : "application/json";
    expect(await call(method, path, body, contentType)).toMatchObject({
      status,
      body: { kind: "Status", reason },
    });
    expect(api.objects.get(`${configMaps}/settings`)).toBe(before);
  });
});

describe("server-side apply, discovery and access reviews (fake-kubernetes-apply.ts)", () => {
  const apply = "application/apply-patch+yaml";
  const namespacePath = "/api/v1/namespaces/payments";
  const settings = `${configMaps}/settings`;
  const applied = (data: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: "payments", labels: { app: "api" } },
    data,
  });

  beforeEach(() => {
    api.applied.length = 0;
    api.readOnly.clear();
    api.objects.set(namespacePath, { metadata: { name: "payments" } });
  });

  it("creates, then merges, records the field manager, and changes nothing on the same apply", async () => {
    const created = await call(
      "PATCH",
      `${settings}?fieldManager=irsa-anywhere`,
      applied({ mode: "a" }),
      apply,
    );
    expect(created).toMatchObject({
      status: 201,
      body: { metadata: { managedFields: [{ manager: "irsa-anywhere", operation: "Apply" }] } },
    });
    const version = (created.body.metadata as { resourceVersion: string }).resourceVersion;
    const again = await call(
      "PATCH",
      `${settings}?fieldManager=irsa-anywhere`,
      applied({ mode: "a" }),
      apply,
    );
    expect((again.body.metadata as { resourceVersion: string }).resourceVersion).toBe(version);
    await call("PATCH", settings, { data: { other: "kept" } }, "application/merge-patch+json");
    await call("PATCH", `${settings}?fieldManager=irsa-anywhere`, applied({ mode: "b" }), apply);
    expect(api.objects.get(settings)).toMatchObject({ data: { mode: "b", other: "kept" } });
    expect(api.applied.map((entry) => [entry.fieldManager, entry.dryRun])).toEqual([
      ["irsa-anywhere", false],
      ["irsa-anywhere", false],
      ["irsa-anywhere", false],
    ]);
  });

  it("stores nothing on a dry run, and refuses an apply into a namespace that does not exist", async () => {
    const dry = await call("PATCH", `${settings}?fieldManager=m&dryRun=All`, applied({ mode: "a" }), apply);
    expect(dry).toMatchObject({ status: 201, body: { data: { mode: "a" } } });
    expect(api.objects.has(settings)).toBe(false);
    const elsewhere = await call(
      "PATCH",
      "/api/v1/namespaces/absent/configmaps/settings?fieldManager=m",
      { ...applied({}), metadata: { name: "settings", namespace: "absent" } },
      apply,
    );
    expect(elsewhere).toMatchObject({ status: 404, body: { reason: "NotFound" } });
  });

  it("refuses an apply over a stale resourceVersion with 409", async () => {
    await call("PATCH", `${settings}?fieldManager=m`, applied({ mode: "a" }), apply);
    const stale = { ...applied({ mode: "b" }), metadata: { ...applied({}).metadata, resourceVersion: "0" } };
    expect(await call("PATCH", `${settings}?fieldManager=m`, stale, apply)).toMatchObject({ status: 409 });
    expect(api.objects.get(settings)).toMatchObject({ data: { mode: "a" } });
  });

  it("lists a collection by label, serves discovery, and answers access reviews", async () => {
    await call("PATCH", `${settings}?fieldManager=m`, applied({}), apply);
    const byLabel = await call("GET", `${configMaps}?labelSelector=app%3Dapi`);
    expect((byLabel.body.items as unknown[]).length).toBe(1);
    const otherLabel = await call("GET", `${configMaps}?labelSelector=app%3Dweb`);
    expect(otherLabel.body.items).toEqual([]);
    const groups = await call("GET", "/apis");
    expect((groups.body.groups as Array<{ name: string }>).map((group) => group.name)).toContain("apps");
    api.readOnly.add(settings);
    const review = (verb: string) =>
      call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: {
          resourceAttributes: {
            group: "",
            resource: "configmaps",
            verb,
            namespace: "payments",
            name: "settings",
          },
        },
      });
    expect((await review("patch")).body).toMatchObject({ status: { allowed: false } });
    expect(await call("PATCH", `${settings}?fieldManager=m`, applied({ mode: "x" }), apply)).toMatchObject({
      status: 403,
    });
  });
});

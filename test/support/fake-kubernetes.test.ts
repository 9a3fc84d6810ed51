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

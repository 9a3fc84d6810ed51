// A local HTTPS server that answers like kube-apiserver for secrets, and the kubeconfig that
// points at it, so that the cluster key source is exercised with the real Kubernetes client.
// Secrets can be changed while it runs, as a key rotation changes `<cluster>-sa`. Any other path
// can be given an answer too (`objects`), for checks that read service accounts, pods and the
// API server's discovery documents. Every object it holds is valid against the Kubernetes API
// schemas (kubernetes-models), as kube-apiserver guarantees, and it takes writes as kube-apiserver
// does: POST, PUT (with resourceVersion as compare-and-swap), PATCH and DELETE.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { type AppliedObject, ApplyExtension, type FakeResource } from "./fake-kubernetes-apply.js";
import { startHttpsServer } from "./https-server.js";
import { validateKubernetesObject } from "./kubernetes-models.js";
import { type CertificateAuthority, issueServerCertificate } from "./tls.js";

export interface FakeKubernetes {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** The bearer token it accepts; anything else gets 401. */
  readonly token: string;
  /** Every request, in order: method and path (without the query), and the body of a write. */
  readonly requests: Array<{ method: string | undefined; path: string; body?: unknown }>;
  /** Creates or replaces a secret; `data` values are plain text, stored base64 as the API does. */
  setSecret(namespace: string, name: string, data: Record<string, string>): void;
  /**
   * What `GET /openid/v1/jwks` answers, as kube-apiserver serves the keys it verifies tokens
   * with; `undefined` for 404 (as before Kubernetes 1.21).
   */
  setJwks(keys: readonly KeyObject[] | undefined): void;
  /** Answers every request with this status (a `Status` body) until called with `undefined`. */
  failWith(status: number | undefined): void;
  /**
   * What a GET of other paths (without the query) answers with 200. A body with `items` is a
   * list: its items are filtered by the request's `fieldSelector`, as kube-apiserver filters them.
   * An object at a resource's path (`/api/v1/...`, `/apis/<group>/<version>/...`) gets the
   * apiVersion and kind the path names when it has none (its items too, for a list) and is
   * validated with kubernetes-models: `set` throws on an object kube-apiserver would refuse.
   * Writes change it too: POST to a collection, PUT, PATCH and DELETE of a named object.
   */
  readonly objects: Map<string, object>;
  /** Paths this identity may not read: 403 with the `Status` body kube-apiserver sends. */
  readonly forbidden: Set<string>;
  /** Every request, in order, with its query, `Authorization` header and client certificate's CN. */
  readonly seen: Array<{
    method: string | undefined;
    path: string;
    query: string;
    authorization: string | undefined;
    clientCommonName: string | undefined;
  }>;
  /** Open watches of secrets (`?watch=true`), which `setSecret` tells of the change. */
  readonly watchers: number;
  /** A kubeconfig (YAML) for this server, its CA and token, as `kubectl config view --raw` prints it. */
  kubeconfig(): string;
  /**
   * Every server-side apply (PATCH `application/apply-patch+yaml`), dry runs included, in order
   * (fake-kubernetes-apply.ts: discovery, apply, access reviews, lists by label, deletes).
   */
  readonly applied: AppliedObject[];
  /** Paths this identity may read but not write: 403 to a write, and access reviews say no. */
  readonly readOnly: Set<string>;
  /**
   * Whether Deployments become ready (default) or never do, as with a pod that cannot start; the
   * Deployments already stored follow at once, as the controller reports pods that now start (or
   * stop being ready).
   */
  setDeploymentsReady(ready: boolean): void;
  /** Serves custom resources, as their CRDs would: e.g. CERT_MANAGER_RESOURCES. */
  installCustomResources(resources: readonly FakeResource[]): void;
  close(): Promise<void>;
}

export interface FakeKubernetesOptions {
  /** The bearer token it accepts; default a random one. */
  token?: string;
  /**
   * Demand a client certificate signed by `ca`, as kube-apiserver's `--client-ca-file`, and let
   * in whoever presents one, token or not. Default false.
   */
  clientCertificates?: boolean;
}

/**
 * Starts a fake API server on 127.0.0.1 with a certificate from `ca`.
 *
 * @example
 * const api = await startFakeKubernetes(createCertificateAuthority());
 * api.setSecret("eksa-system", "prod-sa", signingKeySecret().data);
 * await writeFile(kubeconfigFile, api.kubeconfig());
 */
export async function startFakeKubernetes(
  ca: CertificateAuthority,
  options: FakeKubernetesOptions = {},
): Promise<FakeKubernetes> {
  const token = options.token ?? `sha256~${randomBytes(24).toString("base64url")}`;
  const requests: FakeKubernetes["requests"] = [];
  const objects = new KubernetesObjects();
  const forbidden = new Set<string>();
  const extension = new ApplyExtension(objects, forbidden, nextResourceVersion);
  const seen: FakeKubernetes["seen"] = [];
  let failure: number | undefined;
  let jwks: object | undefined;
  /** Open watches: the collection path, the secret name its field selector names, the stream. */
  const watches = new Set<{ collection: string; name: string; response: ServerResponse }>();
  const tell = (type: string, object: object, to: (w: { collection: string; name: string }) => boolean) => {
    for (const watch of watches) {
      if (to(watch)) watch.response.write(`${JSON.stringify({ type, object })}\n`);
    }
  };
  const handler = async (request: IncomingMessage, response: ServerResponse) => {
    const [path = "", query = ""] = (request.url ?? "").split("?");
    const write = request.method !== "GET" && request.method !== undefined;
    const body = write ? await readJson(request) : undefined;
    requests.push(write ? { method: request.method, path, body } : { method: request.method, path });
    const socket = request.socket as TLSSocket;
    const peer = options.clientCertificates && socket.authorized ? socket.getPeerCertificate() : undefined;
    const clientCommonName = peer?.subject ? [peer.subject.CN].flat().join(",") : undefined;
    seen.push({
      method: request.method,
      path,
      query,
      authorization: request.headers.authorization,
      clientCommonName,
    });
    const reply = (code: number, body: object) => {
      response.writeHead(code, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const answeredByExtension = () => {
      const answer = extension.answer(request.method, path, query, body, request.headers["content-type"]);
      if (answer !== undefined) reply(answer.code, answer.body);
      return answer !== undefined;
    };
    const name = path.split("/").at(-1);
    if (request.headers.authorization !== `Bearer ${token}` && clientCommonName === undefined) {
      reply(401, status(401, "Unauthorized", "Unauthorized"));
    } else if (failure !== undefined) {
      reply(failure, status(failure, "InternalError", "the fake API server was told to fail"));
    } else if (forbidden.has(path)) {
      reply(403, status(403, "Forbidden", `${path} is forbidden: User "reader" cannot get it`));
    } else if (new URLSearchParams(query).get("watch") !== "true" && answeredByExtension()) {
      // answered by fake-kubernetes-apply.ts
    } else if (request.method === "GET" && new URLSearchParams(query).get("watch") === "true") {
      // A watch of one secret, as kube-apiserver streams it: the secret as ADDED, then each change.
      const selector = new URLSearchParams(query).get("fieldSelector") ?? "";
      const watch = { collection: path, name: selector.replace(/^metadata\.name=/, ""), response };
      response.writeHead(200, { "content-type": "application/json" });
      watches.add(watch);
      response.on("close", () => watches.delete(watch));
      const existing = objects.get(`${path}/${watch.name}`);
      if (existing) response.write(`${JSON.stringify({ type: "ADDED", object: existing })}\n`);
    } else if (request.method === "GET" && path === "/openid/v1/jwks" && jwks) {
      reply(200, jwks);
    } else if (request.method === "GET" && objects.has(path)) {
      reply(200, filterList(objects.get(path) ?? {}, new URLSearchParams(query).get("fieldSelector")));
    } else if (write) {
      const answer = applyWrite(objects, request.method ?? "", path, body, request.headers["content-type"]);
      if (answer.changed) {
        const collection = path.slice(0, path.lastIndexOf("/"));
        const changed = answer.changed;
        const [type, object] =
          request.method === "DELETE" ? ["DELETED", changed.before] : ["MODIFIED", changed.after];
        const added = request.method === "POST";
        const target = added ? path : collection;
        tell(added ? "ADDED" : type, object ?? {}, (w) => w.collection === target && w.name === changed.name);
      }
      reply(answer.code, answer.body);
    } else {
      reply(404, status(404, "NotFound", `${resourceOf(path)?.plural ?? "object"} "${name}" not found`));
    }
  };
  const tls = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
  const server = await startHttpsServer(
    (request, response) => {
      handler(request, response).catch((error: unknown) => response.destroy(error as Error));
    },
    { cert: tls.certPem, key: tls.keyPem, ...(options.clientCertificates && { clientCa: ca.certPem }) },
  );
  const base64 = (text: string) => Buffer.from(text).toString("base64");
  return {
    url: server.url,
    token,
    requests,
    objects,
    forbidden,
    seen,
    get watchers() {
      return watches.size;
    },
    applied: extension.applied,
    readOnly: extension.readOnly,
    setDeploymentsReady(ready) {
      extension.deploymentsBecomeReady = ready;
      for (const [path, object] of objects) {
        const deployment = object as { kind?: string; metadata: object; status?: { replicas?: number } };
        if (deployment.kind !== "Deployment" || deployment.status === undefined) continue;
        const readyReplicas = ready ? (deployment.status.replicas ?? 1) : 0;
        Map.prototype.set.call(objects, path, {
          ...deployment,
          metadata: { ...deployment.metadata, resourceVersion: nextResourceVersion() },
          status: { ...deployment.status, readyReplicas, availableReplicas: readyReplicas },
        });
      }
    },
    installCustomResources(resources) {
      extension.installCustomResources(resources);
    },
    setSecret(namespace, name, data) {
      const collection = `/api/v1/namespaces/${namespace}/secrets`;
      const existed = objects.has(`${collection}/${name}`);
      const secret = {
        kind: "Secret",
        apiVersion: "v1",
        metadata: { name, namespace, resourceVersion: nextResourceVersion() },
        type: "cluster.x-k8s.io/secret",
        data: Object.fromEntries(Object.entries(data).map(([field, value]) => [field, base64(value)])),
      };
      objects.set(`${collection}/${name}`, secret);
      tell(existed ? "MODIFIED" : "ADDED", secret, (w) => w.collection === collection && w.name === name);
    },
    setJwks(keys) {
      jwks = keys && { keys: keys.map((key) => ({ use: "sig", ...publicJwk(key) })) };
    },
    failWith(code) {
      failure = code;
    },
    kubeconfig() {
      return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: fake\n  cluster:\n    server: ${server.url}\n    certificate-authority-data: ${base64(ca.certPem)}`,
        "users:",
        `- name: reader\n  user:\n    token: ${token}`,
        "contexts:",
        "- name: fake\n  context:\n    cluster: fake\n    user: reader",
        "current-context: fake",
        "",
      ].join("\n");
    },
    close: () => {
      for (const watch of watches) watch.response.end();
      return server.close();
    },
  };
}

/** A list's items that match a field selector such as `spec.serviceAccountName=api`. */
function filterList(body: object, selector: string | null): object {
  if (!selector || !("items" in body) || !Array.isArray(body.items)) return body;
  const terms = selector.split(",").map((term) => term.split("=") as [string, string]);
  const valueAt = (item: unknown, field: string) =>
    field
      .split(".")
      .reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], item);
  return {
    ...body,
    items: body.items.filter((item: unknown) => terms.every(([f, v]) => valueAt(item, f) === v)),
  };
}

/** A public key as kube-apiserver lists it: kid, then the key's members; RSA keys only here. */
function publicJwk(publicKey: KeyObject): object {
  const { kty, n, e } = publicKey.export({ format: "jwk" });
  return { kty, kid: kidOf(publicKey), alg: "RS256", n, e };
}

/** base64url(SHA-256(PKIX DER)), as kube-apiserver names keys; computed apart from the code under test. */
function kidOf(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url");
}

/** A `metav1.Status` failure body, as kube-apiserver sends with every 4xx and 5xx. */
function status(code: number, reason: string, message: string): object {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

/**
 * A new RSA signing key in the EKS Anywhere `<cluster>-sa` layout (public key in `tls.crt`,
 * private key in `tls.key`), and its kid computed independently of the code under test.
 */
export function signingKeySecret(): { kid: string; publicKey: KeyObject; data: Record<string, string> } {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    kid: kidOf(pair.publicKey),
    publicKey: pair.publicKey,
    data: {
      "tls.crt": pair.publicKey.export({ type: "spki", format: "pem" }) as string,
      "tls.key": pair.privateKey.export({ type: "pkcs1", format: "pem" }) as string,
    },
  };
}

// The kinds the fake knows by their resource name, for objects given without a kind. Any other
// resource must name its apiVersion and kind, so that nothing is stored unvalidated.
const kinds: Record<string, string> = {
  configmaps: "ConfigMap",
  mutatingwebhookconfigurations: "MutatingWebhookConfiguration",
  namespaces: "Namespace",
  pods: "Pod",
  secrets: "Secret",
  serviceaccounts: "ServiceAccount",
};

/** What a resource path names: `/api/v1/namespaces/ns/secrets/name`, `/apis/g/v/plural`, ... */
function resourceOf(
  path: string,
): { apiVersion: string; plural: string; namespace?: string; name?: string } | undefined {
  const parts = path.split("/").slice(1);
  const [root, ...rest] = parts;
  const apiVersion =
    root === "api" ? rest.shift() : root === "apis" ? `${rest.shift()}/${rest.shift()}` : undefined;
  if (apiVersion === undefined || apiVersion.includes("undefined")) return undefined;
  const namespaced = rest[0] === "namespaces" && rest.length >= 3;
  const [plural, name] = namespaced ? rest.slice(2) : rest;
  if (plural === undefined || plural === "") return undefined;
  return {
    apiVersion,
    plural,
    ...(namespaced && { namespace: rest[1] }),
    ...(name !== undefined && { name }),
  };
}

/**
 * The API server's objects by path. `set` of a resource's path fills in the apiVersion and kind
 * the path names when the object has none (a list's items too) and validates it.
 */
class KubernetesObjects extends Map<string, object> {
  override set(path: string, object: object): this {
    const resource = resourceOf(path);
    if (resource === undefined) return super.set(path, object);
    const given = object as { apiVersion?: string; kind?: string; items?: unknown };
    const kind = kinds[resource.plural];
    const apiVersion = given.apiVersion ?? resource.apiVersion;
    const isList = resource.name === undefined;
    const itemKind = isList && given.kind?.endsWith("List") ? given.kind.slice(0, -4) : kind;
    const ofKind = given.kind ?? (kind && (isList ? `${kind}List` : kind));
    // An object that names its own kind needs no table; a list's items need theirs known.
    if (ofKind === undefined || (isList && itemKind === undefined)) {
      throw new Error(
        `the fake API server does not know the kind of ${resource.plural}: give ${path} a kind`,
      );
    }
    const filled = {
      ...given,
      apiVersion,
      kind: ofKind,
      ...(isList &&
        Array.isArray(given.items) && {
          items: given.items.map((item: object) => ({ apiVersion, kind: itemKind, ...item })),
        }),
    };
    validateKubernetesObject(filled);
    return super.set(path, filled);
  }
}

let resourceVersions = 0;
/** A new resourceVersion, as etcd hands them out: opaque, different after each write. */
function nextResourceVersion(): string {
  resourceVersions += 1;
  return String(resourceVersions);
}

interface WriteAnswer {
  code: number;
  body: object;
  changed?: { name: string; before: object | undefined; after: object | undefined };
}

/** A write of a namespaced object, applied as kube-apiserver applies it. */
function applyWrite(
  objects: KubernetesObjects,
  method: string,
  path: string,
  body: unknown,
  contentType: string | undefined,
): WriteAnswer {
  const resource = resourceOf(path);
  const refuse = (code: number, reason: string, message: string): WriteAnswer => ({
    code,
    body: status(code, reason, message),
  });
  if (resource?.namespace === undefined) {
    return refuse(405, "MethodNotAllowed", `${method} ${path} is not supported by the fake API server`);
  }
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  const patchType = contentType?.split(";")[0];
  if (
    method === "PATCH" &&
    patchType !== "application/merge-patch+json" &&
    patchType !== "application/strategic-merge-patch+json"
  ) {
    return refuse(415, "UnsupportedMediaType", `the fake API server does not take ${patchType} patches`);
  }
  if (method !== "DELETE" && !isObject(body))
    return refuse(400, "BadRequest", "the body is not a JSON object");
  const metadataOf = (object: unknown) =>
    (isObject(object) && isObject(object.metadata) ? object.metadata : {}) as Record<string, unknown>;
  const name = method === "POST" ? metadataOf(body).name : resource.name;
  if (typeof name !== "string" || name === "") return refuse(422, "Invalid", "metadata.name: Required value");
  const at = method === "POST" ? `${path}/${name}` : path;
  if (method === "POST" && resource.name !== undefined)
    return refuse(405, "MethodNotAllowed", "POST to a named object");
  const before = objects.get(at);
  const plural = resource.plural;
  if (method === "POST" && before) return refuse(409, "AlreadyExists", `${plural} "${name}" already exists`);
  if (method !== "POST" && !before) return refuse(404, "NotFound", `${plural} "${name}" not found`);

  let after: object | undefined;
  if (method === "DELETE") {
    objects.delete(at);
    return { code: 200, body: before ?? {}, changed: { name, before, after: undefined } };
  } else if (method === "PATCH") {
    // A strategic merge patch merges maps as a JSON merge patch does; lists it replaces whole,
    // which is what kube-apiserver does for every list without a merge key.
    after = mergePatch(before, body) as object;
  } else {
    const expected = metadataOf(body).resourceVersion;
    if (method === "PUT" && expected !== undefined && expected !== metadataOf(before).resourceVersion) {
      return refuse(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    after = body as object;
  }
  const stored = {
    ...after,
    metadata: {
      ...metadataOf(after),
      name,
      namespace: resource.namespace,
      resourceVersion: nextResourceVersion(),
    },
  };
  try {
    objects.set(at, stored);
  } catch (error) {
    return refuse(422, "Invalid", (error as Error).message);
  }
  const saved = objects.get(at) ?? stored;
  return { code: method === "POST" ? 201 : 200, body: saved, changed: { name, before, after: saved } };
}

/** RFC 7386: objects merge member by member, null removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const merged: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = mergePatch(merged[key], value);
  }
  return merged;
}

/** A request's body as JSON; `undefined` when it has none or it is not JSON. */
async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 1024 * 1024) throw new Error("a request body over 1 MiB");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

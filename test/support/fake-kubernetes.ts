// A local HTTPS server that answers like kube-apiserver for secrets, and the kubeconfig that
// points at it, so that the cluster key source is exercised with the real Kubernetes client.
// Secrets can be changed while it runs, as a key rotation changes `<cluster>-sa`. Any other path
// can be given an answer too (`objects`), for checks that read service accounts, pods and the
// API server's discovery documents.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { startHttpsServer } from "./https-server.js";
import { type CertificateAuthority, issueServerCertificate } from "./tls.js";

export interface FakeKubernetes {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** The bearer token it accepts; anything else gets 401. */
  readonly token: string;
  /** Every request, in order: method and path (without the query). */
  readonly requests: Array<{ method: string | undefined; path: string }>;
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
   */
  readonly objects: Map<string, object>;
  /** Paths this identity may not read: 403 with the `Status` body kube-apiserver sends. */
  readonly forbidden: Set<string>;
  /** Every request, in order, with its query and `Authorization` header. */
  readonly seen: Array<{
    method: string | undefined;
    path: string;
    query: string;
    authorization: string | undefined;
  }>;
  /** Open watches of secrets (`?watch=true`), which `setSecret` tells of the change. */
  readonly watchers: number;
  /** A kubeconfig (YAML) for this server, its CA and token, as `kubectl config view --raw` prints it. */
  kubeconfig(): string;
  close(): Promise<void>;
}

/**
 * Starts a fake API server on 127.0.0.1 with a certificate from `ca`.
 *
 * @example
 * const api = await startFakeKubernetes(createCertificateAuthority());
 * api.setSecret("eksa-system", "prod-sa", signingKeySecret().data);
 * await writeFile(kubeconfigFile, api.kubeconfig());
 */
export async function startFakeKubernetes(ca: CertificateAuthority): Promise<FakeKubernetes> {
  const token = `sha256~${randomBytes(24).toString("base64url")}`;
  const secrets = new Map<string, object>();
  const requests: FakeKubernetes["requests"] = [];
  const objects = new Map<string, object>();
  const forbidden = new Set<string>();
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
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const [path = "", query = ""] = (request.url ?? "").split("?");
    requests.push({ method: request.method, path });
    seen.push({ method: request.method, path, query, authorization: request.headers.authorization });
    const reply = (code: number, body: object) => {
      response.writeHead(code, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const name = path.split("/").at(-1);
    if (request.headers.authorization !== `Bearer ${token}`) {
      reply(401, status(401, "Unauthorized", "Unauthorized"));
    } else if (failure !== undefined) {
      reply(failure, status(failure, "InternalError", "the fake API server was told to fail"));
    } else if (forbidden.has(path)) {
      reply(403, status(403, "Forbidden", `${path} is forbidden: User "reader" cannot get it`));
    } else if (request.method === "GET" && new URLSearchParams(query).get("watch") === "true") {
      // A watch of one secret, as kube-apiserver streams it: the secret as ADDED, then each change.
      const selector = new URLSearchParams(query).get("fieldSelector") ?? "";
      const watch = { collection: path, name: selector.replace(/^metadata\.name=/, ""), response };
      response.writeHead(200, { "content-type": "application/json" });
      watches.add(watch);
      response.on("close", () => watches.delete(watch));
      const existing = secrets.get(`${path}/${watch.name}`);
      if (existing) response.write(`${JSON.stringify({ type: "ADDED", object: existing })}\n`);
    } else if (request.method === "GET" && path === "/openid/v1/jwks" && jwks) {
      reply(200, jwks);
    } else if (request.method === "GET" && secrets.has(path)) {
      reply(200, secrets.get(path) ?? {});
    } else if (request.method === "GET" && objects.has(path)) {
      reply(200, filterList(objects.get(path) ?? {}, new URLSearchParams(query).get("fieldSelector")));
    } else {
      reply(404, status(404, "NotFound", `secrets "${name}" not found`));
    }
  };
  const tls = issueServerCertificate(ca, { hosts: ["127.0.0.1", "localhost"] });
  const server = await startHttpsServer(handler, { cert: tls.certPem, key: tls.keyPem });
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
    setSecret(namespace, name, data) {
      const collection = `/api/v1/namespaces/${namespace}/secrets`;
      const existed = secrets.has(`${collection}/${name}`);
      const secret = {
        kind: "Secret",
        apiVersion: "v1",
        metadata: { name, namespace, resourceVersion: String(Date.now()) },
        type: "cluster.x-k8s.io/secret",
        data: Object.fromEntries(Object.entries(data).map(([field, value]) => [field, base64(value)])),
      };
      secrets.set(`${collection}/${name}`, secret);
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

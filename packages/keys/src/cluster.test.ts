import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IrsaAnywhereError } from "@irsa-anywhere/errors";
import type { KubeError, KubeErrorCode } from "@irsa-anywhere/kube";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type FakeKubernetes,
  signingKeySecret,
  startFakeKubernetes,
} from "../../../test/support/fake-kubernetes.js";
import { type RunningHttpsServer, startHttpsServer } from "../../../test/support/https-server.js";
import { freeLoopbackPort } from "../../../test/support/ports.js";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
} from "../../../test/support/tls.js";
import {
  type ClusterKeyOptions,
  jwkFromPublicKey,
  type KeysError,
  type KeysErrorCode,
  kidForPublicKey,
  publicKeysFromCluster,
  publicKeysFromClusterJwks,
  publicKeysFromPem,
} from "./index.js";

const secretPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/secrets/${name}`;

/** A Secret as `GET /api/v1/namespaces/<ns>/secrets/<name>` returns it; `data` values are base64. */
function secretObject(namespace: string, name: string, data: Record<string, string>): object {
  return {
    kind: "Secret",
    apiVersion: "v1",
    metadata: {
      name,
      namespace,
      uid: "9f0c5a8e-0d5b-4b43-9d0e-6d1b1c7f2a10",
      resourceVersion: "48213",
      creationTimestamp: "2024-05-01T12:00:00Z",
      labels: { "cluster.x-k8s.io/cluster-name": name.replace(/-sa$/, "") },
    },
    type: "cluster.x-k8s.io/secret",
    data: Object.fromEntries(
      Object.entries(data).map(([field, value]) => [field, Buffer.from(value).toString("base64")]),
    ),
  };
}

type KubeconfigUser = { token: string } | { certPem: string; keyPem: string };

interface KubeconfigContext {
  name: string;
  server: string;
  ca: CertificateAuthority;
  user: KubeconfigUser;
}

const base64 = (text: string) => Buffer.from(text).toString("base64");

/** A kubeconfig as `kubectl config view --raw` prints it, one cluster and user per context. */
function kubeconfigYaml(contexts: readonly KubeconfigContext[], currentContext: string): string {
  const user = (u: KubeconfigUser) =>
    "token" in u
      ? `    token: ${u.token}`
      : `    client-certificate-data: ${base64(u.certPem)}\n    client-key-data: ${base64(u.keyPem)}`;
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    ...contexts.map(
      (c) =>
        `- name: ${c.name}-cluster\n  cluster:\n    server: ${c.server}\n    certificate-authority-data: ${base64(c.ca.certPem)}`,
    ),
    "users:",
    ...contexts.map((c) => `- name: ${c.name}-user\n  user:\n${user(c.user)}`),
    "contexts:",
    ...contexts.map(
      (c) => `- name: ${c.name}\n  context:\n    cluster: ${c.name}-cluster\n    user: ${c.name}-user`,
    ),
    `current-context: ${currentContext}`,
    "",
  ].join("\n");
}

/** The EKS Anywhere `<cluster>-sa` layout (tls.crt, tls.key) as the secret `namespace/name`. */
function clusterSigningKey(namespace: string, name: string) {
  const key = signingKeySecret();
  return { ...key, secret: secretObject(namespace, name, key.data) };
}

const hosts = ["127.0.0.1", "localhost"];
const token = `sha256~${randomBytes(24).toString("base64url")}`;
const betaToken = `sha256~${randomBytes(24).toString("base64url")}`;

let dir: string;
let kubeconfig: string;
/** Its one context points at the beta server with a token that server does not accept. */
let wrongTokenKubeconfig: string;
const servers: RunningHttpsServer[] = [];
let ca: CertificateAuthority;
let prod: ReturnType<typeof clusterSigningKey>;
let beta: ReturnType<typeof clusterSigningKey>;
let alphaApi: FakeKubernetes;
let betaApi: FakeKubernetes;
let untrustedApi: FakeKubernetes;
let clientCertApi: FakeKubernetes;
/** Every piece of text that must never reach an error message. */
let secretTexts: string[];
let serverTls: ReturnType<typeof issueServerCertificate>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-cluster-test-"));
  ca = createCertificateAuthority();
  const otherCa = createCertificateAuthority("a CA the kubeconfig does not trust");
  serverTls = issueServerCertificate(ca, { hosts });
  const admin = issueClientCertificate(ca, {
    commonName: "kubernetes-admin",
    organizations: ["system:masters"],
  });

  prod = clusterSigningKey("eksa-system", "prod-sa");
  beta = clusterSigningKey("eksa-system", "prod-sa");
  alphaApi = await startFakeKubernetes(ca, { token });
  betaApi = await startFakeKubernetes(ca, { token: betaToken });
  untrustedApi = await startFakeKubernetes(otherCa, { token });
  clientCertApi = await startFakeKubernetes(ca, { clientCertificates: true });
  for (const api of [alphaApi, untrustedApi, clientCertApi]) {
    api.objects.set(secretPath("eksa-system", "prod-sa"), prod.secret);
    api.objects.set(secretPath("capi-system", "prod-sa"), {
      ...prod.secret,
      metadata: { name: "prod-sa", namespace: "capi-system" },
    });
  }
  alphaApi.forbidden.add(secretPath("eksa-system", "locked-sa"));
  betaApi.objects.set(secretPath("eksa-system", "prod-sa"), beta.secret);
  const [alpha, betaServer, untrusted, clientCert] = [alphaApi, betaApi, untrustedApi, clientCertApi];
  const down = `https://127.0.0.1:${await freeLoopbackPort()}`;

  kubeconfig = join(dir, "kubeconfig.yaml");
  await writeFile(
    kubeconfig,
    kubeconfigYaml(
      [
        { name: "alpha", server: alpha.url, ca, user: { token } },
        { name: "beta", server: betaServer.url, ca, user: { token: betaToken } },
        { name: "down", server: down, ca, user: { token } },
        { name: "untrusted", server: untrusted.url, ca, user: { token } },
        { name: "admin", server: clientCert.url, ca, user: admin },
      ],
      "alpha",
    ),
  );
  wrongTokenKubeconfig = join(dir, "wrong-token.yaml");
  await writeFile(
    wrongTokenKubeconfig,
    kubeconfigYaml([{ name: "beta", server: betaServer.url, ca, user: { token: "not-the-token" } }], "beta"),
  );
  secretTexts = [token, betaToken, "-----BEGIN", "PRIVATE KEY", base64(ca.certPem).slice(0, 40)];
  for (const key of [prod, beta]) {
    const data = (key.secret as { data: Record<string, string> }).data;
    secretTexts.push(...Object.values(data).map((value) => value.slice(0, 40)));
  }
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await Promise.all([alphaApi, betaApi, untrustedApi, clientCertApi].map((api) => api?.close()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const api of [alphaApi, betaApi, untrustedApi, clientCertApi]) api.seen.length = 0;
  vi.unstubAllEnvs();
});

/** Awaits a rejection and checks what every KeysError promises: a code and a clean one-line message. */
async function failure(promise: Promise<unknown>): Promise<KeysError | KubeError> {
  const error = await promise.then(
    () => {
      throw new Error("expected publicKeysFromCluster to fail, and it returned keys");
    },
    (reason: unknown) => reason,
  );
  // The cluster's failures are kube's, the secret's are keys': both on the one base.
  expect(error).toBeInstanceOf(IrsaAnywhereError);
  const message = (error as KeysError | KubeError).message;
  expect(message).not.toContain("\n");
  for (const text of secretTexts) expect(message).not.toContain(text);
  return error as KeysError | KubeError;
}

describe("publicKeysFromCluster", () => {
  it("reads the <cluster>-sa secret with the kubeconfig's current context and bearer token", async () => {
    const keys = await publicKeysFromCluster({ cluster: "prod", kubeconfig });

    expect(keys.map((key) => key.kid)).toEqual([prod.kid, prod.kid]);
    expect(kidForPublicKey(prod.publicKey)).toBe(prod.kid);
    expect(keys[0]?.fromPrivateKey).toBe(true);
    expect(keys[0]?.alg).toBe("RS256");
    for (const key of keys) {
      expect(key.publicKey.type).toBe("public");
      expect(key.publicKey.equals(prod.publicKey)).toBe(true);
    }
    expect(alphaApi.seen).toEqual([
      {
        method: "GET",
        path: secretPath("eksa-system", "prod-sa"),
        authorization: `Bearer ${token}`,
        query: "",
        clientCommonName: undefined,
      },
    ]);
  });

  it("reads from the namespace given", async () => {
    const keys = await publicKeysFromCluster({ cluster: "prod", namespace: "capi-system", kubeconfig });

    expect(keys[0]?.kid).toBe(prod.kid);
    expect(alphaApi.seen.map((request) => request.path)).toEqual([secretPath("capi-system", "prod-sa")]);
  });

  it("talks to the server and user of the context given, not the current one", async () => {
    const keys = await publicKeysFromCluster({ cluster: "prod", kubeconfig, context: "beta" });

    expect(keys[0]?.kid).toBe(beta.kid);
    expect(beta.kid).not.toBe(prod.kid);
    expect(alphaApi.seen).toEqual([]);
    expect(betaApi.seen.map((request) => request.authorization)).toEqual([`Bearer ${betaToken}`]);
  });

  it("authenticates with the kubeconfig's client certificate", async () => {
    const keys = await publicKeysFromCluster({ cluster: "prod", kubeconfig, context: "admin" });

    expect(keys[0]?.kid).toBe(prod.kid);
    expect(clientCertApi.seen.map((request) => request.clientCommonName)).toEqual(["kubernetes-admin"]);
  });

  it("uses KUBECONFIG when no kubeconfig is given", async () => {
    vi.stubEnv("KUBECONFIG", kubeconfig);

    const keys = await publicKeysFromCluster({ cluster: "prod" });

    expect(keys[0]?.kid).toBe(prod.kid);
    expect(alphaApi.seen).toHaveLength(1);
  });

  it.skipIf(existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token"))(
    "says the kubeconfig is missing when there is none anywhere (not that localhost:8080 is down)",
    async () => {
      const home = join(dir, "empty-home");
      await mkdir(home, { recursive: true });
      vi.stubEnv("HOME", home);
      vi.stubEnv("KUBECONFIG", "");

      const error = await failure(publicKeysFromCluster({ cluster: "prod" }));

      expect(error.code).toBe("ERR_KUBECONFIG_INVALID");
    },
  );

  const failures: Array<[string, () => ClusterKeyOptions, KeysErrorCode | KubeErrorCode]> = [
    [
      "the secret does not exist (404)",
      () => ({ cluster: "absent", kubeconfig }),
      "ERR_CLUSTER_SECRET_NOT_FOUND",
    ],
    [
      "the identity may not read it (403)",
      () => ({ cluster: "locked", kubeconfig }),
      "ERR_CLUSTER_FORBIDDEN",
    ],
    [
      "the server refuses the token (401)",
      () => ({ cluster: "prod", kubeconfig: wrongTokenKubeconfig }),
      "ERR_CLUSTER_FORBIDDEN",
    ],
    [
      "nothing listens at the server's address",
      () => ({ cluster: "prod", kubeconfig, context: "down" }),
      "ERR_CLUSTER_UNREACHABLE",
    ],
    [
      "the context is not in the kubeconfig",
      () => ({ cluster: "prod", kubeconfig, context: "gamma" }),
      "ERR_KUBECONFIG_INVALID",
    ],
    [
      "the kubeconfig file does not exist",
      () => ({ cluster: "prod", kubeconfig: join(dir, "absent.yaml") }),
      "ERR_KUBECONFIG_INVALID",
    ],
  ];

  it.each(failures)("fails when %s", async (_, options, code) => {
    const error = await failure(publicKeysFromCluster(options()));
    expect(error.code).toBe(code);
  });

  it("fails when the kubeconfig is not YAML, or its current context is missing", async () => {
    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "clusters: [\n  - name: {\n");
    expect((await failure(publicKeysFromCluster({ cluster: "prod", kubeconfig: broken }))).code).toBe(
      "ERR_KUBECONFIG_INVALID",
    );

    const dangling = join(dir, "dangling.yaml");
    await writeFile(
      dangling,
      kubeconfigYaml([{ name: "alpha", server: alphaApi.url, ca, user: { token } }], "gone"),
    );
    expect((await failure(publicKeysFromCluster({ cluster: "prod", kubeconfig: dangling }))).code).toBe(
      "ERR_KUBECONFIG_INVALID",
    );
  });

  it("refuses a server whose certificate the kubeconfig's CA did not sign, before sending the token", async () => {
    const error = await failure(publicKeysFromCluster({ cluster: "prod", kubeconfig, context: "untrusted" }));

    expect(error.code).toBe("ERR_CLUSTER_UNREACHABLE");
    expect(untrustedApi.seen).toEqual([]);
  });

  it("gives up on an API server that accepts the request and never answers", async () => {
    const silent = await startHttpsServer(() => new Promise<void>(() => {}), {
      cert: serverTls.certPem,
      key: serverTls.keyPem,
    });
    servers.push(silent);
    const silentKubeconfig = join(dir, "silent.yaml");
    await writeFile(
      silentKubeconfig,
      kubeconfigYaml([{ name: "silent", server: silent.url, ca, user: { token } }], "silent"),
    );
    const error = await failure(
      publicKeysFromCluster({ cluster: "prod", kubeconfig: silentKubeconfig, timeoutMs: 300 }),
    );

    expect(error.code).toBe("ERR_CLUSTER_UNREACHABLE");
    expect(error.message).toMatch(/no answer/);
  });
});

describe("publicKeysFromClusterJwks", () => {
  it("reads the keys the API server serves, with the kubeconfig's credentials and no secret", async () => {
    const [key] = publicKeysFromPem(prod.publicKey.export({ type: "spki", format: "pem" }) as string, "prod");
    if (!key) throw new Error("fixture");
    alphaApi.objects.set("/openid/v1/jwks", { keys: [jwkFromPublicKey(key)] });
    const keys = await publicKeysFromClusterJwks({ kubeconfig });

    expect(keys.map((k) => k.kid)).toEqual([prod.kid]);
    expect(alphaApi.seen).toEqual([
      {
        method: "GET",
        path: "/openid/v1/jwks",
        authorization: `Bearer ${token}`,
        query: "",
        clientCommonName: undefined,
      },
    ]);
    alphaApi.objects.delete("/openid/v1/jwks");
  });

  it("says which binding is missing when the API server refuses", async () => {
    const error = await failure(publicKeysFromClusterJwks({ kubeconfig: wrongTokenKubeconfig }));
    expect(error.code).toBe("ERR_CLUSTER_FORBIDDEN");
    expect(error.message).toMatch(/service-account-issuer-discovery/);
  });

  it("says in one line when the kubeconfig's credentials cannot be had", async () => {
    const server = alphaApi.url;
    const kubeconfigs = {
      exec: "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /nonexistent/aws-iam-authenticator\n",
      certificate:
        "users:\n- name: u\n  user:\n    client-certificate: /nonexistent/client.crt\n    client-key: /nonexistent/client.key\n",
    };
    for (const [name, users] of Object.entries(kubeconfigs)) {
      const file = join(dir, `${name}.kubeconfig`);
      await writeFile(
        file,
        `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${base64(ca.certPem)}\n${users}contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`,
      );
      const reads = [
        () => publicKeysFromClusterJwks({ kubeconfig: file }),
        () => publicKeysFromCluster({ cluster: "prod", kubeconfig: file }),
      ];
      for (const read of reads) {
        const error = await failure(read());
        expect(error.code, name).toBe("ERR_CLUSTER_UNREACHABLE");
        expect(error.message, name).toMatch(/nonexistent/);
        expect(error.message, name).not.toContain("\n");
      }
    }
  });

  it("explains an API server too old to serve its JWKS", async () => {
    const error = await failure(publicKeysFromClusterJwks({ kubeconfig, context: "beta" }));
    expect(error.code).toBe("ERR_CLUSTER_UNREACHABLE");
    expect(error.message).toMatch(/1\.21/);
  });
});

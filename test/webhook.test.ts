// `irsa-anywhere webhook install | status | renew-cert | uninstall`, run as a user runs them,
// against the fake Kubernetes API server, which validates every object it stores with
// kubernetes-models and records every server-side apply.
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { runCli } from "./support/cli.js";
import { type FakeKubernetes, startFakeKubernetes } from "./support/fake-kubernetes.js";
import { CERT_MANAGER_RESOURCES } from "./support/fake-kubernetes-apply.js";
import { validateKubernetesObject } from "./support/kubernetes-models.js";
import { type CertificateAuthority, createCertificateAuthority } from "./support/tls.js";

const ns = "irsa-anywhere";
const paths = {
  namespace: `/api/v1/namespaces/${ns}`,
  deployment: `/apis/apps/v1/namespaces/${ns}/deployments/pod-identity-webhook`,
  tls: `/api/v1/namespaces/${ns}/secrets/pod-identity-webhook-tls`,
  ca: `/api/v1/namespaces/${ns}/secrets/pod-identity-webhook-ca`,
  configuration: `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/irsa-anywhere.pod-identity-webhook.${ns}`,
  clusterRole: `/apis/rbac.authorization.k8s.io/v1/clusterroles/irsa-anywhere:pod-identity-webhook:${ns}`,
};

let ca: CertificateAuthority;
let api: FakeKubernetes;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  ca = createCertificateAuthority();
  dir = await mkdtemp(join(tmpdir(), "irsa-webhook-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  api = await startFakeKubernetes(ca);
  kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, api.kubeconfig());
});
afterEach(async () => {
  await api.close();
});

const webhook = (...args: string[]) =>
  runCli(["webhook", ...args, "--kubeconfig", kubeconfig], { isolated: true });
/** A stored object, as far as these tests read it. */
interface StoredObject {
  metadata: { annotations: Record<string, string>; resourceVersion?: string };
  data?: Record<string, string>;
  spec: { replicas?: number; template: { spec: { containers: Array<{ args: string[] }> } } };
  webhooks: Array<{ clientConfig: { caBundle?: string } }>;
}
const stored = (path: string) => api.objects.get(path) as StoredObject | undefined;
const writes = () =>
  api.requests.filter(
    (request) => request.method !== "GET" && !request.path.includes("selfsubjectaccessreviews"),
  );
const realApplies = () => api.applied.filter((apply) => !apply.dryRun);
const secretText = (path: string, key: string) =>
  Buffer.from(stored(path)?.data?.[key] ?? "", "base64").toString();
const caBundle = () =>
  Buffer.from(stored(paths.configuration)?.webhooks[0]?.clientConfig.caBundle ?? "", "base64").toString();

/** Connects trusting only `trusted`, as `servername`, to a server with the given certificate; the outcome. */
async function handshake(
  served: { cert: string; key: string },
  trusted: string,
  servername: string,
): Promise<string> {
  const server = createServer(served, (_, response) => response.end("ok"));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const socket = connect({ host: "127.0.0.1", port, ca: trusted, servername }, () => {
        socket.end();
        resolve("ok");
      });
      socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
  } finally {
    server.close();
  }
}

describe("webhook install", () => {
  it("applies every object as irsa-anywhere, waits for the replicas, and makes its own TLS without cert-manager", async () => {
    const result = await webhook("install", "--region", "eu-west-1");
    expect(result.stderr).toContain(
      "waiting for Deployment irsa-anywhere/pod-identity-webhook: 2 of 2 replicas ready",
    );
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(
      /installed in irsa-anywhere on https:\/\/127\.0\.0\.1:\d+: 12 created, 0 changed, 0 unchanged/,
    );
    expect(realApplies().every((apply) => apply.fieldManager === "irsa-anywhere")).toBe(true);
    // In the order planned: the Namespace first, the webhook configuration (which makes the API
    // server call the webhook) last, after the Deployment it calls.
    const kinds = realApplies().map((apply) => apply.object.kind);
    expect([kinds.length, kinds[0], kinds.at(-1)]).toEqual([12, "Namespace", "MutatingWebhookConfiguration"]);
    expect(kinds.indexOf("Deployment")).toBeGreaterThan(kinds.lastIndexOf("Secret"));
    expect(stored(paths.deployment)?.spec.template.spec.containers[0]?.args).toContain(
      "--aws-default-region=eu-west-1",
    );
    // The API server trusts the CA whose serving certificate the webhook mounts.
    expect(caBundle()).toBe(secretText(paths.tls, "ca.crt"));
    expect(
      new X509Certificate(secretText(paths.tls, "tls.crt")).verify(new X509Certificate(caBundle()).publicKey),
    ).toBe(true);
    // No private key on the terminal.
    expect(result.stdout + result.stderr).not.toMatch(/PRIVATE KEY/);
  });

  it("changes nothing when run again: the same objects, the same certificates, no new resourceVersion", async () => {
    expect((await webhook("install")).code).toBe(0);
    const first = realApplies().map((apply) => apply.object);
    const versions = [...api.objects.entries()].map(([path, object]) => [
      path,
      (object as StoredObject).metadata?.resourceVersion,
    ]);
    api.applied.length = 0;
    const again = await webhook("install");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("0 created, 0 changed, 12 unchanged");
    // The same objects; the Secrets and the webhook configuration now name the version they are
    // written over (a compare-and-swap), which the first run had none of to name.
    const withoutVersion = (object: Record<string, unknown>) => {
      const { resourceVersion, ...metadata } = object.metadata as Record<string, unknown>;
      return { ...object, metadata };
    };
    expect(realApplies().map((apply) => withoutVersion(apply.object))).toEqual(first);
    const preconditions = realApplies()
      .filter(
        (apply) => (apply.object.metadata as { resourceVersion?: string }).resourceVersion !== undefined,
      )
      .map((apply) => apply.object.kind);
    expect(preconditions).toEqual(["Secret", "Secret", "MutatingWebhookConfiguration"]);
    expect(
      [...api.objects.entries()].map(([path, object]) => [
        path,
        (object as StoredObject).metadata?.resourceVersion,
      ]),
    ).toEqual(versions);
  });

  it("keeps the fields another controller set, and brings its own back", async () => {
    expect((await webhook("install")).code).toBe(0);
    const deployment = stored(paths.deployment) as StoredObject;
    api.objects.set(paths.deployment, {
      ...deployment,
      metadata: {
        ...deployment.metadata,
        annotations: { ...deployment.metadata.annotations, "example.com/owner": "team-a" },
      },
      spec: { ...deployment.spec, replicas: 1 },
    });
    const result = await webhook("install", "--dry-run");
    expect(result.stdout).toMatch(/change +Deployment irsa-anywhere\/pod-identity-webhook/);
    expect((await webhook("install")).code).toBe(0);
    expect(stored(paths.deployment)?.metadata.annotations["example.com/owner"]).toBe("team-a");
    expect(stored(paths.deployment)?.spec.replicas).toBe(2);
  });

  it("prints the plan with --dry-run and applies nothing", async () => {
    const result = await webhook("install", "--dry-run");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^create +Namespace irsa-anywhere$/m);
    expect(result.stdout).toMatch(
      /^create +MutatingWebhookConfiguration irsa-anywhere\.pod-identity-webhook\.irsa-anywhere$/m,
    );
    expect(result.stdout).toContain("nothing was changed");
    expect(realApplies()).toEqual([]);
    expect(stored(paths.namespace)).toBeUndefined();
  });

  it("uses cert-manager where the cluster serves cert-manager.io (auto)", async () => {
    api.installCustomResources(CERT_MANAGER_RESOURCES);
    const result = await webhook("install", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      tls: "cert-manager",
      certificates: "cert-manager",
      ready: true,
    });
    expect(realApplies().map((apply) => apply.object.kind)).toContain("Certificate");
    expect(stored(paths.tls)).toBeUndefined();
    expect(stored(paths.configuration)?.metadata.annotations["cert-manager.io/inject-ca-from"]).toBe(
      "irsa-anywhere/pod-identity-webhook-tls",
    );
  });

  it("fails clearly when the Deployment never becomes ready within --timeout", async () => {
    api.setDeploymentsReady(false);
    const result = await webhook("install", "--timeout", "4s");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "waiting for Deployment irsa-anywhere/pod-identity-webhook: 0 of 2 replicas ready",
    );
    const lastLine = result.stderr.trim().split("\n").at(-1);
    expect(lastLine).toMatch(
      /^irsa-anywhere: Deployment irsa-anywhere\/pod-identity-webhook has 0 of 2 replicas ready after \d.*kubectl -n irsa-anywhere describe deployment/,
    );
  });

  it.each([
    [
      "an image reference that is not one",
      ["--image", "not an image"],
      2,
      /image "not an image" is not an image reference/,
    ],
    ["an image pinned to nothing", ["--image", "example.com/webhook:latest"], 2, /not pinned to a version/],
    ["kube-system", ["--namespace", "kube-system"], 2, /kube-system/],
    ["a namespace that is no Kubernetes name", ["--namespace", "Team_A"], 2, /not a valid Kubernetes name/],
  ])("refuses %s with one line, exit 2, before any request", async (_name, args, code, message) => {
    const result = await webhook("install", ...args);
    expect(result.code).toBe(code);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(api.requests).toEqual([]);
  });

  it("applies nothing when the kubeconfig may read but not write one of the objects (403)", async () => {
    api.readOnly.add(paths.configuration);
    const result = await webhook("install");
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(
      /does not let this identity create MutatingWebhookConfiguration irsa-anywhere\.pod-identity-webhook\.irsa-anywhere.*nothing was changed/,
    );
    expect(writes()).toEqual([]);
    expect(stored(paths.namespace)).toBeUndefined();
  });

  it("says so in one line, exit 1, when the kubeconfig may not even read an object (403)", async () => {
    api.forbidden.add(paths.configuration);
    const result = await webhook("install");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^irsa-anywhere: \S+ refused to let this identity get MutatingWebhookConfiguration .*\(HTTP 403\)[^\n]*\n$/,
    );
    expect(writes()).toEqual([]);
  });

  it("reuses the certificates in the cluster, and makes a new serving certificate from the same CA when one is missing", async () => {
    expect((await webhook("install")).code).toBe(0);
    const caPem = secretText(paths.ca, "ca.crt");
    const servingPem = secretText(paths.tls, "tls.crt");
    expect((await webhook("install")).code).toBe(0);
    expect(secretText(paths.tls, "tls.crt")).toBe(servingPem);
    const secret = stored(paths.tls) as StoredObject;
    api.objects.set(paths.tls, {
      ...secret,
      data: { ...secret.data, "tls.crt": Buffer.from("not a certificate").toString("base64") },
    });
    const result = await webhook("install", "--json");
    expect(JSON.parse(result.stdout)).toMatchObject({ certificates: "new serving certificate" });
    expect(secretText(paths.ca, "ca.crt")).toBe(caPem);
    expect(caBundle()).toBe(caPem);
    expect(secretText(paths.tls, "tls.crt")).not.toBe(servingPem);
  });
});

describe("webhook install --manifests", () => {
  it("writes multi-document YAML for GitOps with --cert-manager yes, with no cluster at all", async () => {
    const file = join(dir, "webhook.yaml");
    const result = await runCli(["webhook", "install", "--cert-manager", "yes", "--manifests", file], {
      isolated: true,
    });
    expect(result).toMatchObject({ code: 0, stdout: "" });
    const documents = parseAllDocuments(await readFile(file, "utf8")).map((document) => document.toJS());
    expect(documents.map((document) => document.kind)).toContain("MutatingWebhookConfiguration");
    for (const document of documents.filter((d) => d.apiVersion !== "cert-manager.io/v1")) {
      expect(() => validateKubernetesObject(document)).not.toThrow();
    }
  });

  it("asks the cluster, with --cert-manager auto, only what it must read: no write, no access review", async () => {
    api.installCustomResources(CERT_MANAGER_RESOURCES);
    const file = join(dir, "auto.yaml");
    const result = await webhook("install", "--manifests", file);
    expect(result.code).toBe(0);
    const kinds = parseAllDocuments(await readFile(file, "utf8")).map((document) => document.toJS().kind);
    expect(kinds).toContain("Certificate");
    expect(api.requests.filter((request) => request.method !== "GET")).toEqual([]);
  });

  it("keeps the private keys of --cert-manager no out of standard output, and writes them to a file only its owner reads", async () => {
    const refused = await runCli(["webhook", "install", "--cert-manager", "no", "--manifests", "-"], {
      isolated: true,
    });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/never written to standard output/);
    const file = join(dir, "webhook-secret.yaml");
    const result = await runCli(["webhook", "install", "--cert-manager", "no", "--manifests", file], {
      isolated: true,
    });
    expect(result.code).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(result.stderr).toMatch(/holds the webhook's CA and serving private keys/);
  });
});

describe("webhook status", () => {
  it("reports the version, replicas, certificate expiry, CA bundle and service of a healthy installation", async () => {
    expect((await webhook("install")).code).toBe(0);
    const result = await webhook("status", "--json");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ healthy: true, version: "v0.6.9", replicas: { ready: 2, desired: 2 } });
    expect(report.checks.map((check: { id: string; status: string }) => [check.id, check.status])).toEqual([
      ["deployment", "pass"],
      ["replicas", "pass"],
      ["certificate", "pass"],
      ["ca-bundle", "pass"],
      ["service", "pass"],
    ]);
    expect(new Date(report.certificateNotAfter).getTime()).toBeGreaterThan(Date.now() + 360 * 86_400_000);
  });

  it("fails, exit 1, when the CA bundle does not verify the serving certificate", async () => {
    expect((await webhook("install")).code).toBe(0);
    const other = createCertificateAuthority();
    const configuration = stored(paths.configuration) as StoredObject;
    const [first] = configuration.webhooks;
    api.objects.set(paths.configuration, {
      ...configuration,
      webhooks: [
        {
          ...first,
          clientConfig: { ...first?.clientConfig, caBundle: Buffer.from(other.certPem).toString("base64") },
        },
      ],
    });
    const result = await webhook("status");
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^FAIL {2}ca-bundle: the CA bundle the API server trusts does not verify the serving certificate/m,
    );
  });

  it("says, exit 2, when nothing is installed in the namespace given", async () => {
    const result = await webhook("status", "--namespace", "elsewhere");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^irsa-anywhere: no pod identity webhook installed in namespace elsewhere/);
  });
});

describe("doctor", () => {
  const doctorWebhookCheck = async () => {
    const result = await runCli(
      [
        "doctor",
        "--issuer",
        "https://oidc.example.com/prod",
        "--no-aws",
        "--json",
        "--kubeconfig",
        kubeconfig,
        "--timeout",
        "20s",
      ],
      { isolated: true },
    );
    const checks = JSON.parse(result.stdout).checks as Array<{
      id: string;
      status: string;
      code: string;
      reason: string;
    }>;
    return checks.find((check) => check.id === "pod-identity-webhook");
  };

  it("judges the installed webhook with the same checks as webhook status", async () => {
    expect((await webhook("install")).code).toBe(0);
    expect(await doctorWebhookCheck()).toMatchObject({
      status: "pass",
      reason: expect.stringMatching(/v0\.6\.9, 2 of 2 replicas ready, certificate valid until/),
    });
    const configuration = stored(paths.configuration) as StoredObject;
    const [first] = configuration.webhooks;
    const other = createCertificateAuthority();
    api.objects.set(paths.configuration, {
      ...configuration,
      webhooks: [
        {
          ...first,
          clientConfig: { ...first?.clientConfig, caBundle: Buffer.from(other.certPem).toString("base64") },
        },
      ],
    });
    expect(await doctorWebhookCheck()).toMatchObject({
      status: "fail",
      code: "ERR_WEBHOOK_UNHEALTHY",
      reason: expect.stringMatching(
        /the CA bundle the API server trusts does not verify the serving certificate/,
      ),
    });
  });
});

describe("webhook renew-cert", () => {
  it("replaces the serving certificate, keeps the CA, and the bundle the API server trusts still verifies it", async () => {
    expect((await webhook("install")).code).toBe(0);
    const caPem = secretText(paths.ca, "ca.crt");
    const oldServing = secretText(paths.tls, "tls.crt");
    const writesBefore = writes().length;
    const result = await webhook("renew-cert");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/renewed the serving certificate in irsa-anywhere: valid until/);
    // One write: the serving Secret, certificate and key together.
    expect(
      writes()
        .slice(writesBefore)
        .map((request) => [request.method, request.path]),
    ).toEqual([["PATCH", paths.tls]]);
    const served = { cert: secretText(paths.tls, "tls.crt"), key: secretText(paths.tls, "tls.key") };
    expect(served.cert).not.toBe(oldServing);
    expect(secretText(paths.ca, "ca.crt")).toBe(caPem);
    for (const name of [
      "pod-identity-webhook.irsa-anywhere.svc",
      "pod-identity-webhook.irsa-anywhere.svc.cluster.local",
    ]) {
      expect([name, await handshake(served, caBundle(), name)]).toEqual([name, "ok"]);
    }
    expect(JSON.parse((await webhook("status", "--json")).stdout)).toMatchObject({ healthy: true });
  });

  it("refuses, exit 2, where cert-manager renews the certificate", async () => {
    api.installCustomResources(CERT_MANAGER_RESOURCES);
    expect((await webhook("install")).code).toBe(0);
    api.setSecret(ns, "pod-identity-webhook-tls", { "tls.crt": "x" });
    const result = await webhook("renew-cert");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cert-manager issues and renews the webhook's certificate/);
  });

  it("needs the installation: exit 2 for a namespace without one", async () => {
    const result = await webhook("renew-cert", "--namespace", "elsewhere");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no pod identity webhook installed in namespace elsewhere/);
  });
});

describe("webhook uninstall", () => {
  it("removes what install created and leaves an unrelated object with a similar name", async () => {
    expect((await webhook("install")).code).toBe(0);
    const lookalikeRole =
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/irsa-anywhere:pod-identity-webhook:irsa-anywhere-old";
    const upstream =
      "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/pod-identity-webhook";
    api.objects.set(lookalikeRole, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: {
        name: "irsa-anywhere:pod-identity-webhook:irsa-anywhere-old",
        labels: { "app.kubernetes.io/managed-by": "irsa-anywhere" },
      },
      rules: [],
    });
    api.objects.set(upstream, { metadata: { name: "pod-identity-webhook" }, webhooks: [] });

    const planned = await webhook("uninstall", "--dry-run");
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(
      /^remove +MutatingWebhookConfiguration irsa-anywhere\.pod-identity-webhook\.irsa-anywhere$/m,
    );
    expect(planned.stdout).toMatch(/would remove 12 objects/);
    expect(stored(paths.deployment)).toBeDefined();

    const result = await webhook("uninstall");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/removed 12 objects/);
    for (const path of Object.values(paths)) expect([path, stored(path)]).toEqual([path, undefined]);
    expect(stored(lookalikeRole)).toBeDefined();
    expect(stored(upstream)).toBeDefined();
    expect((await webhook("uninstall")).stdout).toMatch(/^nothing of irsa-anywhere's webhook/);
  });
});

// Two renewals at once, step by step: both read the serving Secret, then write in turn. The
// second write is over a Secret that changed since it read it, so the API server refuses it
// (a compare-and-swap on the resourceVersion): the Secret ends with one whole certificate and its
// key, never a mix, and the CA bundle verifies it.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClusterObjects, connectClusterObjects, KubeError } from "@irsa-anywhere/kube";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKubernetes, startFakeKubernetes } from "../../../test/support/fake-kubernetes.js";
import { createCertificateAuthority } from "../../../test/support/tls.js";
import { installWebhook, planWebhookInstall, WEBHOOK_FIELD_MANAGER } from "./install-webhook.js";
import { renewWebhookCertificate } from "./renew-webhook-certificate.js";
import { webhookStatus } from "./webhook-status.js";

let api: FakeKubernetes;
let dir: string;
let cluster: ClusterObjects;
const tlsPath = "/api/v1/namespaces/irsa-anywhere/secrets/pod-identity-webhook-tls";

beforeAll(async () => {
  api = await startFakeKubernetes(createCertificateAuthority());
  dir = await mkdtemp(join(tmpdir(), "irsa-webhook-renew-"));
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, api.kubeconfig());
  cluster = await connectClusterObjects({ kubeconfig, fieldManager: WEBHOOK_FIELD_MANAGER });
  const plan = await planWebhookInstall(cluster, { certManager: "no" });
  await installWebhook(cluster, plan, { timeoutMs: 10_000 });
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

/** A connection whose writes (of the kind given, or all) wait at a gate the test opens. */
function gated(connection: ClusterObjects, kind?: string) {
  let open: () => void = () => {};
  let arrived: () => void = () => {};
  const atGate = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const wrapped: ClusterObjects = {
    ...connection,
    server: connection.server,
    apply: async (object, options) => {
      if (kind === undefined || (object.kind === kind && !options?.dryRun)) {
        arrived();
        await gate;
      }
      return connection.apply(object, options);
    },
  };
  return { wrapped, atGate, open };
}

const secretText = (key: string) => {
  const secret = api.objects.get(tlsPath) as { data: Record<string, string> };
  return Buffer.from(secret.data[key] ?? "", "base64").toString();
};

describe("renewWebhookCertificate, two at once", () => {
  it("lets the first write win and refuses the second, which read the Secret before it changed", async () => {
    const first = gated(cluster);
    const second = gated(cluster);
    const a = renewWebhookCertificate(first.wrapped, "irsa-anywhere");
    await first.atGate; // A has read, and waits to write
    const b = renewWebhookCertificate(second.wrapped, "irsa-anywhere");
    await second.atGate; // B has read the same Secret, and waits to write
    first.open();
    const renewal = await a;
    second.open();
    const refused = await b.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(KubeError);
    expect(refused).toMatchObject({
      code: "ERR_CLUSTER_WRITE_REFUSED",
      message: expect.stringMatching(/HTTP 409/),
    });

    // One whole certificate and its own key: A's.
    const certificate = new X509Certificate(secretText("tls.crt"));
    expect(new Date(certificate.validTo).toISOString()).toBe(
      new Date(Math.floor(renewal.notAfter.getTime() / 1000) * 1000).toISOString(),
    );
    expect(certificate.checkPrivateKey(createPrivateKey(secretText("tls.key")))).toBe(true);
    expect(certificate.verify(new X509Certificate(secretText("ca.crt")).publicKey)).toBe(true);
  });
});

describe("installWebhook, while another install makes a new CA", () => {
  it("does not write its CA bundle over the other's: its plan read another version, so that write is refused", async () => {
    const planA = await planWebhookInstall(cluster, { certManager: "no" });
    expect(planA.certificates).toBe("kept");
    const a = gated(cluster, "MutatingWebhookConfiguration");
    const runA = installWebhook(a.wrapped, planA, { timeoutMs: 10_000 });
    await a.atGate; // A has written the Secrets it read, and waits to write the bundle

    // B finds no CA (someone deleted it), makes a new one, and installs everything.
    api.objects.delete("/api/v1/namespaces/irsa-anywhere/secrets/pod-identity-webhook-ca");
    const planB = await planWebhookInstall(cluster, { certManager: "no" });
    expect(planB.certificates).toBe("new CA");
    await installWebhook(cluster, planB, { timeoutMs: 10_000 });

    a.open();
    await expect(runA).rejects.toMatchObject({ code: "ERR_CLUSTER_WRITE_REFUSED" });
    const health = await webhookStatus(cluster, "irsa-anywhere");
    expect(health.checks.find((check) => check.id === "ca-bundle")).toMatchObject({ status: "pass" });
  });
});

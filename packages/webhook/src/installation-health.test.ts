import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { issueServingCertificate, makeWebhookCertificates } from "./certificates.js";
import { certificatesToInstall } from "./certificates-to-install.js";
import { judgeWebhookHealth, type WebhookObservation } from "./installation-health.js";
import { WEBHOOK_NAME, webhookManifests } from "./manifests.js";

const namespace = "irsa-anywhere";
const made = new Date("2026-03-01T00:00:00Z");
const certificates = makeWebhookCertificates({ serviceName: WEBHOOK_NAME, namespace, now: made });
const objects = JSON.parse(
  JSON.stringify(webhookManifests({ namespace, tls: { mode: "secret", certificates } })),
);
const byKind = (kind: string) => objects.find((object: { kind: string }) => object.kind === kind);
const ready = {
  ...byKind("Deployment"),
  status: { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
};
const healthy: WebhookObservation = {
  namespace,
  deployment: ready,
  servingCertificatePem: certificates.certificatePem,
  webhookConfiguration: byKind("MutatingWebhookConfiguration"),
};
const day = 86_400_000;
const soon = new Date(certificates.notAfter.getTime() - 10 * day);
const later = new Date(made.getTime() + 30 * day);

const statuses = (observation: WebhookObservation, now: Date) =>
  Object.fromEntries(judgeWebhookHealth(observation, now).checks.map((check) => [check.id, check.status]));

describe("judgeWebhookHealth", () => {
  it("passes a healthy installation and says what runs", () => {
    const health = judgeWebhookHealth(healthy, later);
    expect(health).toMatchObject({ healthy: true, version: "v0.6.9", replicas: { ready: 2, desired: 2 } });
    expect(health.certificateNotAfter).toBe(certificates.notAfter.toISOString());
  });

  it.each<[string, Partial<WebhookObservation>, Date, Record<string, string>]>([
    ["a serving certificate within 30 days of its end", {}, soon, { certificate: "warn" }],
    [
      "an expired serving certificate",
      {},
      new Date(certificates.notAfter.getTime() + day),
      { certificate: "fail" },
    ],
    [
      "a certificate for another namespace's service",
      {
        servingCertificatePem: makeWebhookCertificates({
          serviceName: WEBHOOK_NAME,
          namespace: "other",
          now: made,
        }).certificatePem,
      },
      later,
      { certificate: "fail", "ca-bundle": "fail" },
    ],
    ["no Deployment", { deployment: undefined }, later, { deployment: "fail" }],
    [
      "no replica ready",
      { deployment: { ...ready, status: { readyReplicas: 0, updatedReplicas: 2 } } },
      later,
      { replicas: "fail" },
    ],
    [
      "one replica of two ready",
      { deployment: { ...ready, status: { readyReplicas: 1, updatedReplicas: 2 } } },
      later,
      { replicas: "warn" },
    ],
    [
      "a webhook configuration that calls another service",
      {
        webhookConfiguration: {
          webhooks: [
            {
              clientConfig: {
                caBundle: Buffer.from(certificates.caCertificatePem).toString("base64"),
                service: { name: "other", namespace, path: "/mutate", port: 443 },
              },
            },
          ],
        },
      },
      later,
      { service: "fail" },
    ],
    [
      "cert-manager not having injected the bundle yet",
      {
        webhookConfiguration: {
          metadata: {
            annotations: { "cert-manager.io/inject-ca-from": `${namespace}/pod-identity-webhook-tls` },
          },
          webhooks: [
            { clientConfig: { service: { name: WEBHOOK_NAME, namespace, path: "/mutate", port: 443 } } },
          ],
        },
      },
      later,
      { "ca-bundle": "fail" },
    ],
  ])("flags %s", (_name, change, now, expected) => {
    const found = statuses({ ...healthy, ...change }, now);
    expect(found).toMatchObject(expected);
    const others = Object.entries(found).filter(([id]) => !(id in expected));
    expect(others.every(([, status]) => status === "pass")).toBe(true);
  });
});

describe("certificatesToInstall", () => {
  const found = {
    ca: { certificatePem: certificates.caCertificatePem, keyPem: certificates.caKeyPem },
    servingCertificatePem: certificates.certificatePem,
    servingKeyPem: certificates.keyPem,
  };
  const options = { serviceName: WEBHOOK_NAME, namespace };

  it("keeps certificates that still serve, so that running install again changes nothing", () => {
    const decision = certificatesToInstall(found, { ...options, now: later });
    expect(decision.kept).toBe("all");
    expect(decision.certificates.certificatePem).toBe(certificates.certificatePem);
  });

  it("makes a new serving certificate from the same CA when the old one is due, or is another's", () => {
    for (const [servingCertificatePem, now] of [
      [certificates.certificatePem, soon],
      [
        issueServingCertificate({ ...options, namespace: "other", ca: found.ca, now: made }).certificatePem,
        later,
      ],
    ] as const) {
      const decision = certificatesToInstall({ ...found, servingCertificatePem }, { ...options, now });
      expect(decision.kept).toBe("ca");
      expect(decision.certificates.caCertificatePem).toBe(certificates.caCertificatePem);
      const serving = new X509Certificate(decision.certificates.certificatePem);
      expect(serving.verify(new X509Certificate(certificates.caCertificatePem).publicKey)).toBe(true);
    }
  });

  it("makes a new CA when there is none, or its key is not its certificate's", () => {
    const stranger = makeWebhookCertificates({ ...options, now: made });
    for (const ca of [
      undefined,
      { certificatePem: certificates.caCertificatePem, keyPem: stranger.caKeyPem },
    ]) {
      const decision = certificatesToInstall({ ...found, ca }, { ...options, now: later });
      expect(decision.kept).toBe("none");
      expect(decision.certificates.caCertificatePem).not.toBe(certificates.caCertificatePem);
    }
  });
});

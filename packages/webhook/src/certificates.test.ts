import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { connect } from "node:tls";
import { MutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { describe, expect, it } from "vitest";
import { makeWebhookCertificates, serviceDnsNames, type WebhookKeyType } from "./certificates.js";
import { WEBHOOK_NAME, webhookManifests } from "./manifests.js";

const now = new Date("2026-03-01T12:00:00Z");
const namespace = "irsa-anywhere";

/** The CA bundle as the API server reads it: from the generated webhook configuration. */
function caBundleOf(objects: ReturnType<typeof webhookManifests>): string {
  const configuration = objects.find((object) => object instanceof MutatingWebhookConfiguration);
  const caBundle = configuration?.webhooks?.[0]?.clientConfig.caBundle;
  if (caBundle === undefined) throw new Error("no caBundle in the webhook configuration");
  return Buffer.from(caBundle, "base64").toString("utf8");
}

/** Connects to the server trusting only `ca`, as `servername`; the handshake's outcome. */
async function handshake(port: number, ca: string, servername: string): Promise<string> {
  return await new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername }, () => {
      socket.end();
      resolve("ok");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe.each<WebhookKeyType>(["ecdsa-p256", "rsa-2048"])("makeWebhookCertificates (%s)", (keyType) => {
  const certificates = makeWebhookCertificates({ serviceName: WEBHOOK_NAME, namespace, keyType, now });

  it("is trusted, through the webhook configuration's caBundle alone, for each service DNS name", async () => {
    const ca = caBundleOf(webhookManifests({ namespace, tls: { mode: "secret", certificates } }));
    const server = createServer(
      { cert: certificates.certificatePem, key: certificates.keyPem },
      (_, response) => response.end("ok"),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      for (const name of serviceDnsNames(WEBHOOK_NAME, namespace)) {
        expect([name, await handshake(port, ca, name)]).toEqual([name, "ok"]);
      }
      expect(await handshake(port, ca, "pod-identity-webhook.other.svc")).toBe(
        "ERR_TLS_CERT_ALTNAME_INVALID",
      );
      const stranger = makeWebhookCertificates({ serviceName: WEBHOOK_NAME, namespace, keyType, now });
      expect(await handshake(port, stranger.caCertificatePem, `${WEBHOOK_NAME}.${namespace}.svc`)).not.toBe(
        "ok",
      );
    } finally {
      server.close();
    }
  });

  it("dates the CA ten years and the serving certificate one from the given clock", () => {
    const ca = new X509Certificate(certificates.caCertificatePem);
    const serving = new X509Certificate(certificates.certificatePem);
    expect(ca.ca).toBe(true);
    expect(serving.ca).toBe(false);
    expect(new Date(ca.validFrom).getTime()).toBeLessThanOrEqual(now.getTime());
    expect(new Date(ca.validTo).toISOString()).toBe("2036-03-01T11:55:00.000Z");
    expect(new Date(serving.validTo).toISOString()).toBe("2027-03-01T11:55:00.000Z");
    expect(certificates.notAfter.toISOString()).toBe("2027-03-01T11:55:00.000Z");
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.publicKey.asymmetricKeyType).toBe(keyType === "rsa-2048" ? "rsa" : "ec");
  });
});

describe("makeWebhookCertificates refusals", () => {
  it.each([
    [{ serviceName: "Pod_Webhook", namespace }, /service name "Pod_Webhook"/],
    [{ serviceName: WEBHOOK_NAME, namespace: "x".repeat(64) }, /namespace "x{64}"/],
    [{ serviceName: WEBHOOK_NAME, namespace, keyType: "ed25519" as WebhookKeyType }, /key type "ed25519"/],
  ])("refuses %j", (options, message) => {
    expect(() => makeWebhookCertificates(options)).toThrow(
      expect.objectContaining({
        name: "WebhookError",
        code: "ERR_WEBHOOK_OPTION_INVALID",
        fault: "input",
        message: expect.stringMatching(new RegExp(`^(?=.*${message.source})[^\n]*$`)),
      }),
    );
  });
});

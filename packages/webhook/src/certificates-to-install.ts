import { createPrivateKey, X509Certificate } from "node:crypto";
import {
  issueServingCertificate,
  makeWebhookCertificates,
  serviceDnsNames,
  type WebhookCa,
  type WebhookCertificates,
  type WebhookKeyType,
} from "./certificates.js";
import { WebhookError } from "./errors.js";
import { RENEW_WITHIN_MS } from "./installation-health.js";

/**
 * The certificates an installation already holds, as read from its Secrets; any may be missing.
 *
 * @example
 * const found: FoundCertificates = { ca: undefined, servingCertificatePem: undefined, servingKeyPem: undefined };
 */
export interface FoundCertificates {
  ca: WebhookCa | undefined;
  servingCertificatePem: string | undefined;
  servingKeyPem: string | undefined;
}

/**
 * What {@link certificatesToInstall} decided: the certificates to apply, and what it kept.
 * `all`: the CA and serving certificate as they are; `ca`: the CA, with a new serving
 * certificate; `none`: a new CA and serving certificate.
 *
 * @example
 * const found: FoundCertificates = { ca: undefined, servingCertificatePem: undefined, servingKeyPem: undefined };
 * const { kept }: CertificateDecision = certificatesToInstall(found, { serviceName: "pod-identity-webhook", namespace: "irsa-anywhere" });
 */
export interface CertificateDecision {
  certificates: WebhookCertificates;
  kept: "all" | "ca" | "none";
}

/**
 * The certificates for an install: those already in the cluster when they still serve (so that
 * running install again changes nothing, and the CA bundle the API server trusts stays), a new
 * serving certificate from the same CA when the old one is due (within 30 days) or does not fit,
 * and a new CA only when there is none that can sign for at least 30 days more.
 *
 * @example
 * const decision = certificatesToInstall(
 *   { ca: undefined, servingCertificatePem: undefined, servingKeyPem: undefined },
 *   { serviceName: "pod-identity-webhook", namespace: "irsa-anywhere" },
 * );
 * console.log(decision.kept); // "none"
 */
export function certificatesToInstall(
  found: FoundCertificates,
  options: { serviceName: string; namespace: string; keyType?: WebhookKeyType; now?: Date },
): CertificateDecision {
  const now = options.now ?? new Date();
  const ca = found.ca !== undefined && caStillSigns(found.ca, now) ? found.ca : undefined;
  if (ca === undefined) return { certificates: makeWebhookCertificates({ ...options, now }), kept: "none" };
  const { servingCertificatePem, servingKeyPem } = found;
  if (
    servingCertificatePem !== undefined &&
    servingKeyPem !== undefined &&
    servingStillFits(servingCertificatePem, servingKeyPem, ca, options, now)
  ) {
    return {
      certificates: {
        caCertificatePem: ca.certificatePem,
        caKeyPem: ca.keyPem,
        certificatePem: servingCertificatePem,
        keyPem: servingKeyPem,
        notAfter: new Date(new X509Certificate(servingCertificatePem).validTo),
      },
      kept: "all",
    };
  }
  return { certificates: issueServingCertificate({ ...options, ca, now }), kept: "ca" };
}

function caStillSigns(ca: WebhookCa, now: Date): boolean {
  try {
    // issueServingCertificate checks the pair; here, whether there is time left to sign for.
    issueServingCertificate({ ca, serviceName: "probe", namespace: "probe", now });
    return (
      new Date(new X509Certificate(ca.certificatePem).validTo).getTime() - now.getTime() > RENEW_WITHIN_MS
    );
  } catch (error) {
    if (error instanceof WebhookError) return false;
    throw error;
  }
}

function servingStillFits(
  certificatePem: string,
  keyPem: string,
  ca: WebhookCa,
  options: { serviceName: string; namespace: string },
  now: Date,
): boolean {
  try {
    const serving = new X509Certificate(certificatePem);
    const issuer = new X509Certificate(ca.certificatePem);
    return (
      serving.checkIssued(issuer) &&
      serving.verify(issuer.publicKey) &&
      serving.checkPrivateKey(createPrivateKey(keyPem)) &&
      serviceDnsNames(options.serviceName, options.namespace).every(
        (name) => serving.checkHost(name) !== undefined,
      ) &&
      new Date(serving.validTo).getTime() - now.getTime() > RENEW_WITHIN_MS
    );
  } catch {
    return false;
  }
}

export {
  CA_VALIDITY_YEARS,
  issueServingCertificate,
  makeWebhookCertificates,
  type ServingCertificateOptions,
  SERVING_VALIDITY_YEARS,
  serviceDnsNames,
  type WebhookCa,
  type WebhookCertificateOptions,
  type WebhookCertificates,
  type WebhookKeyType,
} from "./certificates.js";
export {
  type CertificateDecision,
  certificatesToInstall,
  type FoundCertificates,
} from "./certificates-to-install.js";
export { WebhookError, type WebhookErrorCode } from "./errors.js";
export {
  type CertManagerCertificate,
  type CertManagerIssuer,
  DEFAULT_WEBHOOK_IMAGE,
  DEFAULT_WEBHOOK_NAMESPACE,
  MANAGED_ANNOTATION,
  MANAGED_BY_LABEL,
  type NamespacedMetadata,
  SKIP_LABEL,
  WEBHOOK_CA_SECRET,
  WEBHOOK_NAME,
  WEBHOOK_TLS_SECRET,
  type WebhookManifestOptions,
  type WebhookObject,
  type WebhookTls,
  webhookManifests,
} from "./manifests.js";
export {
  imageVersion,
  judgeWebhookHealth,
  RENEW_WITHIN_MS,
  type WebhookCheck,
  type WebhookCheckId,
  type WebhookHealth,
  type WebhookObservation,
} from "./installation-health.js";

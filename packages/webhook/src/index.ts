export {
  CA_VALIDITY_YEARS,
  makeWebhookCertificates,
  SERVING_VALIDITY_YEARS,
  serviceDnsNames,
  type WebhookCertificateOptions,
  type WebhookCertificates,
  type WebhookKeyType,
} from "./certificates.js";
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
  WEBHOOK_NAME,
  type WebhookManifestOptions,
  type WebhookObject,
  type WebhookTls,
  webhookManifests,
} from "./manifests.js";

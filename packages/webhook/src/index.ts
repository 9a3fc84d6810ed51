export {
  CA_VALIDITY_YEARS,
  issueServingCertificate,
  makeWebhookCertificates,
  SERVING_VALIDITY_YEARS,
  type ServingCertificateOptions,
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
  type CertManagerChoice,
  installWebhook,
  type PlannedChange,
  planWebhookInstall,
  resolveWebhookObjects,
  WEBHOOK_FIELD_MANAGER,
  type WebhookInstallOptions,
  type WebhookInstallPlan,
  webhookManifestsOffline,
} from "./install-webhook.js";
export {
  imageVersion,
  judgeWebhookHealth,
  RENEW_WITHIN_MS,
  type WebhookCheck,
  type WebhookCheckId,
  type WebhookHealth,
  type WebhookObservation,
} from "./installation-health.js";
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
  webhookConfigurationName,
  webhookManifests,
} from "./manifests.js";
export { renewWebhookCertificate, type WebhookRenewal } from "./renew-webhook-certificate.js";
export { planWebhookUninstall, uninstallWebhook } from "./uninstall-webhook.js";
export { webhookStatus } from "./webhook-status.js";

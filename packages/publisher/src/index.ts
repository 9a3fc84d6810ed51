export { mergeBucketPolicy, type PolicyStatement, publicReadStatement } from "./bucket-policy.js";
export {
  decideState,
  pendingKids,
  type RotationStep,
  type StateDecision,
  type StateInput,
} from "./decide-state.js";
export { directoryTarget } from "./directory-target.js";
export { PublishError, type PublishErrorCode } from "./errors.js";
export {
  type BucketPolicyOutcome,
  type PublishOptions,
  type PublishResult,
  publish,
} from "./publish.js";
export {
  DOCUMENT_CACHE_CONTROL,
  DOCUMENT_CONTENT_TYPE,
  type DocumentAction,
  type DocumentName,
  type DocumentOutcome,
  type PublishDocumentsOptions,
  type PublishDocumentsResult,
  type PublishedKeys,
  publishDocuments,
  statePath,
} from "./publish-documents.js";
export { DEFAULT_RETAIN_MS, parseDuration, WARN_JWKS_KEYS } from "./retention.js";
export {
  confirmRotation,
  type PruneOutcome,
  prepareRotation,
  pruneRotation,
  type RotationReport,
  type RotationStage,
  rotationStatus,
  withdrawRotation,
} from "./rotation.js";
export { type S3Operation, translateS3Error } from "./s3-error.js";
export {
  normalizePrefix,
  objectPrefixForIssuer,
  type S3IssuerUrl,
  s3Issuer,
  s3IssuerUrl,
} from "./s3-location.js";
export { type S3Target, type S3TargetOptions, s3Target } from "./s3-target.js";
export {
  type KeyRecord,
  loadState,
  type PublisherState,
  type RotationRecord,
  renderDiscovery,
  renderJwks,
  serializeState,
} from "./state.js";
export type { ConditionalWrite, PublishTarget, StoredDocument } from "./target.js";

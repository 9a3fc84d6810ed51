export {
  BUCKET_POLICY_MAX_BYTES,
  PUBLIC_READ_SCOPES,
  type PublicReadPlan,
  type PublicReadScope,
  planPublicReadPolicy,
} from "./bucket-policy.js";
export {
  CACHING_OPTIMIZED_POLICY_ID,
  type CloudFrontOptions,
  DEFAULT_CLOUDFRONT_WAIT_MS,
  DEFAULT_PRICE_CLASS,
  type DistributionOutcome,
} from "./cloudfront.js";
export { directoryTarget } from "./directory-target.js";
export { PublishError, type PublishErrorCode } from "./errors.js";
export {
  BLOCK_PUBLIC_ACCESS,
  type BlockPublicAccess,
  type BucketAccessMode,
  ensureIssuerBucket,
  type IssuerBucketOutcome,
} from "./issuer-bucket.js";
export {
  type PreparedIssuer,
  type PrepareIssuerOptions,
  prepareIssuer,
} from "./prepare-issuer.js";
export {
  type BucketPolicyOutcome,
  type BucketPublishOptions,
  type DirectoryPublishOptions,
  type PublishOptions,
  type PublishResult,
  publish,
  publishToDirectory,
  type TargetPublishOptions,
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
export { DEFAULT_RETAIN_MS, parseDuration } from "./retention.js";
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
export type { ConditionalWrite, PublishTarget, StoredDocument } from "./target.js";

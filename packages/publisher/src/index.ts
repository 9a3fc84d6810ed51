export { directoryTarget } from "./directory-target.js";
export { type MergedKeys, mergeKeys } from "./documents.js";
export { PublishError, type PublishErrorCode } from "./errors.js";
export {
  DOCUMENT_CACHE_CONTROL,
  DOCUMENT_CONTENT_TYPE,
  type DocumentAction,
  type DocumentName,
  type DocumentOutcome,
  type PublishOptions,
  type PublishResult,
  publish,
} from "./publish.js";
export type { ConditionalWrite, PublishTarget, StoredDocument } from "./target.js";

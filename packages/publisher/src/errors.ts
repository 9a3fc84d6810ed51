/** Stable codes for every failure of this package. */
export type PublishErrorCode =
  | "ERR_PRECONDITION_FAILED"
  | "ERR_CONCURRENT_UPDATES"
  | "ERR_PUBLISHED_DOCUMENT_INVALID"
  | "ERR_TARGET_UNWRITABLE"
  | "ERR_TARGET_UNREADABLE"
  | "ERR_TARGET_MISSING"
  | "ERR_ISSUER_MISMATCH"
  | "ERR_BUCKET_NOT_FOUND"
  | "ERR_BUCKET_WRONG_REGION"
  | "ERR_REGION_MISSING"
  | "ERR_REGION_INVALID"
  | "ERR_PUBLIC_ACCESS_BLOCKED"
  | "ERR_AWS_ACCESS_DENIED"
  | "ERR_AWS_NO_CREDENTIALS"
  | "ERR_AWS_REQUEST_FAILED"
  | "ERR_AWS_UNREACHABLE"
  | "ERR_DURATION_INVALID"
  | "ERR_TOO_MANY_KEYS"
  | "ERR_ROTATION_PRECONDITION"
  | "ERR_DOCUMENTS_NOT_SERVED"
  | "ERR_AUDIENCE_INVALID";

const inputCodes: ReadonlySet<PublishErrorCode> = new Set([
  "ERR_PUBLISHED_DOCUMENT_INVALID",
  "ERR_TARGET_MISSING",
  "ERR_ISSUER_MISMATCH",
  "ERR_BUCKET_NOT_FOUND",
  "ERR_BUCKET_WRONG_REGION",
  "ERR_REGION_MISSING",
  "ERR_REGION_INVALID",
  "ERR_DURATION_INVALID",
  "ERR_AUDIENCE_INVALID",
]);

/** The one error class of `@irsa-anywhere/publisher`. Messages never contain credentials or keys. */
export class PublishError extends Error {
  override readonly name = "PublishError";
  readonly code: PublishErrorCode;
  /** `true` when the caller's input is at fault (CLI exit 2), `false` otherwise (exit 1). */
  readonly isInputError: boolean;

  constructor(code: PublishErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.isInputError = inputCodes.has(code);
  }
}

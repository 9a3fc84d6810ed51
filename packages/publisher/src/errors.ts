import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/**
 * Stable codes for every failure of this package. An AWS call that fails for a reason other than
 * the bucket throws `@irsa-anywhere/iam`'s `IamError` (`ERR_AWS_*`).
 */
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
  | "ERR_BUCKET_TAKEN"
  | "ERR_REGION_MISSING"
  | "ERR_PUBLIC_ACCESS_BLOCKED"
  | "ERR_BUCKET_POLICY_TOO_LARGE"
  | "ERR_DURATION_INVALID"
  | "ERR_TOO_MANY_KEYS"
  | "ERR_ROTATION_PRECONDITION"
  | "ERR_DOCUMENTS_NOT_SERVED"
  | "ERR_AUDIENCE_INVALID"
  | "ERR_CLOUDFRONT_INVALID"
  | "ERR_CERTIFICATE_UNUSABLE"
  | "ERR_DISTRIBUTION_NOT_DEPLOYED";

const faults: FaultTable<PublishErrorCode> = {
  ERR_PRECONDITION_FAILED: "environment",
  ERR_CONCURRENT_UPDATES: "environment",
  ERR_PUBLISHED_DOCUMENT_INVALID: "input",
  ERR_TARGET_UNWRITABLE: "environment",
  ERR_TARGET_UNREADABLE: "environment",
  ERR_TARGET_MISSING: "input",
  ERR_ISSUER_MISMATCH: "input",
  ERR_BUCKET_NOT_FOUND: "input",
  ERR_BUCKET_WRONG_REGION: "input",
  ERR_BUCKET_TAKEN: "input",
  ERR_REGION_MISSING: "input",
  ERR_PUBLIC_ACCESS_BLOCKED: "environment",
  ERR_BUCKET_POLICY_TOO_LARGE: "environment",
  ERR_DURATION_INVALID: "input",
  ERR_TOO_MANY_KEYS: "environment",
  ERR_ROTATION_PRECONDITION: "environment",
  ERR_DOCUMENTS_NOT_SERVED: "environment",
  ERR_AUDIENCE_INVALID: "input",
  ERR_CLOUDFRONT_INVALID: "input",
  ERR_CERTIFICATE_UNUSABLE: "input",
  ERR_DISTRIBUTION_NOT_DEPLOYED: "environment",
};

/**
 * The one error class of `@irsa-anywhere/publisher`. Messages never contain credentials or keys.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * try {
 *   await publish({ keys, bucket: "my-oidc", prefix: "prod" });
 * } catch (error) {
 *   if (error instanceof PublishError && error.code === "ERR_BUCKET_NOT_FOUND") console.error(error.message);
 *   else throw error;
 * }
 */
export class PublishError extends IrsaAnywhereError<PublishErrorCode> {
  override readonly name = "PublishError";

  constructor(code: PublishErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}

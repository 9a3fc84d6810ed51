import { type AwsOperation, type IamError, translateAwsError } from "@irsa-anywhere/iam";
import { PublishError } from "./errors.js";

/** An S3 call, with the bucket it addressed, to name the bucket and its region in a message. */
export interface S3Operation extends AwsOperation {
  bucket: string;
  region: string;
}

interface S3SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * An S3 failure in one line that says what to do: a missing bucket or one in another region is
 * the user's to fix ({@link PublishError}); anything else is the one AWS translation's.
 */
export function translateS3Error(error: unknown, operation: S3Operation): PublishError | IamError {
  const e = (typeof error === "object" && error !== null ? error : {}) as S3SdkError;
  if (e.name === "NoSuchBucket") {
    return new PublishError(
      "ERR_BUCKET_NOT_FOUND",
      `bucket ${operation.bucket} does not exist; create it (aws s3 mb s3://${operation.bucket} --region ${operation.region}) or check --bucket`,
      { cause: error },
    );
  }
  if (e.name === "BucketAlreadyExists") {
    return new PublishError(
      "ERR_BUCKET_TAKEN",
      `bucket name ${operation.bucket} is taken by another AWS account (bucket names are global); choose another --bucket`,
      { cause: error },
    );
  }
  if (
    e.name === "PermanentRedirect" ||
    e.name === "AuthorizationHeaderMalformed" ||
    e.$metadata?.httpStatusCode === 301
  ) {
    const actual = e.$response?.headers?.["x-amz-bucket-region"];
    return new PublishError(
      "ERR_BUCKET_WRONG_REGION",
      `bucket ${operation.bucket} is in ${actual ?? "another region"}, not ${operation.region}; run again with --region ${actual ?? "<the bucket's region>"}`,
      { cause: error },
    );
  }
  return translateAwsError(error, operation);
}

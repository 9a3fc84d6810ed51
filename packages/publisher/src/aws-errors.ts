import { noAnswerError } from "./aws-client.js";
import { PublishError } from "./errors.js";

/** What an SDK call was doing, to name the missing permission and the resource in a message. */
export interface AwsOperation {
  /** IAM action, e.g. `s3:PutObject`. */
  action: string;
  /** What it acted on, e.g. `s3://bucket/prod/keys.json` or an ARN. */
  resource: string;
  bucket?: string;
  region?: string;
}

interface SdkError {
  name?: string;
  message?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * Turns an AWS SDK failure into one line that says what to do. Credentials never appear in
 * SDK error messages, and nothing but the error's name, status and request id is used.
 */
export function translateAwsError(error: unknown, operation: AwsOperation): PublishError {
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkError;
  const name = e.name ?? "";
  const status = e.$metadata?.httpStatusCode;
  const requestId = e.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : "";
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(e.message ?? "")) {
    return new PublishError(
      "ERR_AWS_NO_CREDENTIALS",
      "no AWS credentials found; set AWS_PROFILE (and aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is available",
      { cause: error },
    );
  }
  if (name === "NoSuchBucket") {
    return new PublishError(
      "ERR_BUCKET_NOT_FOUND",
      `bucket ${operation.bucket} does not exist; create it (aws s3 mb s3://${operation.bucket}${operation.region ? ` --region ${operation.region}` : ""}) or check --bucket`,
      { cause: error },
    );
  }
  if (name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed" || status === 301) {
    const actual = e.$response?.headers?.["x-amz-bucket-region"];
    return new PublishError(
      "ERR_BUCKET_WRONG_REGION",
      `bucket ${operation.bucket} is in ${actual ?? "another region"}, not ${operation.region}; run again with --region ${actual ?? "<the bucket's region>"}`,
      { cause: error },
    );
  }
  if (name === "AccessDenied" || name === "AccessDeniedException" || name === "Forbidden" || status === 403) {
    return new PublishError(
      "ERR_AWS_ACCESS_DENIED",
      `access denied: this identity needs ${operation.action} on ${operation.resource}${requestId}; grant it (examples/iam/publisher-policy.json lists every permission the publisher needs)`,
      { cause: error },
    );
  }
  if (
    name === "InvalidAccessKeyId" ||
    name === "SignatureDoesNotMatch" ||
    name === "ExpiredToken" ||
    name === "InvalidClientTokenId"
  ) {
    return new PublishError(
      "ERR_AWS_NO_CREDENTIALS",
      `AWS rejected the credentials (${name}); refresh them (aws sso login, or new access keys) and run again`,
      { cause: error },
    );
  }
  const noAnswer = noAnswerError(error);
  if (noAnswer !== undefined) return noAnswer;
  // No HTTP answer at all: refused, reset, not resolved, timed out, or an endpoint that is no URL.
  const code = (error as { code?: unknown } | null)?.code;
  if (status === undefined && (typeof code === "string" || name === "TimeoutError" || name === "TypeError")) {
    const service = operation.action.split(":")[0]?.toUpperCase() ?? "AWS";
    return new PublishError(
      "ERR_AWS_UNREACHABLE",
      `cannot reach ${service} for ${operation.action.split(" ")[0]}: ${typeof code === "string" ? code : name}; check the network, any proxy (HTTPS_PROXY), and --endpoint-url or AWS_ENDPOINT_URL if set`,
      { cause: error },
    );
  }
  const where = e.$fault === "server" || (status ?? 0) >= 500 ? "AWS failed" : "AWS refused";
  return new PublishError(
    "ERR_AWS_REQUEST_FAILED",
    `${where} ${operation.action} on ${operation.resource}: ${name || "error"}${status ? ` (HTTP ${status})` : ""}${requestId}; ${e.$fault === "server" ? "try again later" : "check the request"}`,
    { cause: error },
  );
}

import type { IAMClient } from "@aws-sdk/client-iam";
import type { STSClient } from "@aws-sdk/client-sts";
import {
  type AwsClientSettings,
  awsClientConfig,
  iamRegionOf,
  noAnswerMessage,
  type Partition,
  PublishError,
  partitionOf,
  resolvedRegion,
  watchAwsRequests,
} from "@irsa-anywhere/publisher";

/** @internal An SDK failure, read for its name, status and request id only: never its request. */
export interface AwsFailure {
  kind: "no-credentials" | "access-denied" | "not-found" | "other";
  /** The SDK error's name, e.g. `NoSuchEntityException`. */
  name: string;
  /** One line, e.g. "access denied (request id …)". Holds no credentials and no token. */
  summary: string;
}

interface SdkError {
  name?: string;
  message?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/** @internal */
export function describeAwsFailure(error: unknown): AwsFailure {
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkError;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const requestId = e.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : "";
  const noAnswer = noAnswerMessage(error);
  if (noAnswer !== undefined) return { kind: "other", name, summary: noAnswer };
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(e.message ?? "")) {
    return { kind: "no-credentials", name, summary: "no AWS credentials found" };
  }
  if (
    name === "InvalidClientTokenId" ||
    name === "SignatureDoesNotMatch" ||
    name === "ExpiredToken" ||
    name === "InvalidAccessKeyId"
  ) {
    return { kind: "no-credentials", name, summary: `AWS rejected the credentials (${name})` };
  }
  if (name === "AccessDenied" || name === "AccessDeniedException" || status === 403) {
    return { kind: "access-denied", name, summary: `access denied${requestId}` };
  }
  if (name === "NoSuchEntity" || name === "NoSuchEntityException" || status === 404) {
    return { kind: "not-found", name, summary: `${name}${requestId}` };
  }
  // Only the first line of the message: SDK messages never echo request parameters, but a
  // network error's may be long.
  const message = (e.message ?? "").split("\n")[0]?.slice(0, 200) ?? "";
  const where = e.$fault === "server" || (status ?? 0) >= 500 ? "AWS failed" : "the request failed";
  return {
    kind: "other",
    name,
    summary: `${where}: ${name}${status ? ` (HTTP ${status})` : ""}${message && message !== name ? `: ${message}` : ""}${requestId}`,
  };
}

/** @internal What to do about an AWS failure, for a check's fix or an error message. */
export function awsFix(failure: AwsFailure, actions: readonly string[]): string {
  switch (failure.kind) {
    case "no-credentials":
      return "set AWS_PROFILE (and aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is available";
    case "access-denied":
      return `grant this identity ${actions.join(", ")}`;
    default:
      return "check the network and AWS_REGION / AWS_ENDPOINT_URL, then run again";
  }
}

/**
 * @internal An AWS failure as the error that owns the `ERR_AWS_*` codes, publisher's, for calls
 * that cannot go on without AWS.
 */
export function awsError(error: unknown, actions: readonly string[]): PublishError {
  const failure = describeAwsFailure(error);
  const code =
    failure.kind === "no-credentials"
      ? "ERR_AWS_NO_CREDENTIALS"
      : failure.kind === "access-denied"
        ? "ERR_AWS_ACCESS_DENIED"
        : "ERR_AWS_REQUEST_FAILED";
  return new PublishError(code, `${actions.join(", ")}: ${failure.summary}; ${awsFix(failure, actions)}`, {
    cause: error,
  });
}

/** @internal The partition of a region, by name (`aws`, `aws-cn`, `aws-us-gov`). */
export function partitionOfRegion(region: string): string {
  return partitionOf(region).name;
}

/** STS's region when neither the options, the environment nor the profile name one. */
const DEFAULT_STS_REGION = "us-east-1";

/**
 * @internal An STS client in the region given, else the SDK's (`AWS_REGION`, the profile's),
 * else us-east-1; `region` is the one it uses.
 */
export async function makeStsClient(
  region: string | undefined,
  settings: AwsClientSettings = {},
): Promise<{ client: STSClient; region: string }> {
  const sts = await import("@aws-sdk/client-sts");
  const make = (chosen: string | undefined) =>
    watchAwsRequests(
      new sts.STSClient({
        ...(chosen ? { region: chosen } : {}),
        maxAttempts: 3,
        ...awsClientConfig(settings),
      }),
      "STS",
      settings,
    );
  let client = make(region);
  const resolved = await resolvedRegion(client);
  if (resolved !== undefined) return { client, region: resolved };
  client.destroy();
  client = make(DEFAULT_STS_REGION);
  return { client, region: DEFAULT_STS_REGION };
}

/**
 * @internal The partition of the region the SDK would use: `region`, else `AWS_REGION` or the
 * profile's; `aws` when none is set. Sends no request.
 */
export async function partitionOfSdkRegion(
  region: string | undefined,
  settings: AwsClientSettings = {},
): Promise<string> {
  const { client, region: resolved } = await makeStsClient(region, settings);
  client.destroy();
  return partitionOfRegion(resolved);
}

/** @internal */
export async function makeIamClient(partition: string, settings: AwsClientSettings = {}): Promise<IAMClient> {
  const iam = await import("@aws-sdk/client-iam");
  return watchAwsRequests(
    new iam.IAMClient({
      region: iamRegionOf(partition as Partition["name"]),
      maxAttempts: 3,
      ...awsClientConfig(settings),
    }),
    "IAM",
    settings,
  );
}

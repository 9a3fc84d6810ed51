import { noAnswerMessage } from "./aws-client.js";
import { IamError } from "./errors.js";

/** What an SDK call was doing, to name the missing permission and the resource in a message. */
export interface AwsOperation {
  /** IAM action, e.g. `s3:PutObject`. */
  action: string;
  /** What it acted on, e.g. `s3://bucket/prod/keys.json` or an ARN. */
  resource: string;
}

/** An SDK failure, read for its name, status and request id only: never its request. */
export interface AwsFailure {
  kind: "no-credentials" | "credentials-rejected" | "access-denied" | "not-found" | "unreachable" | "other";
  /** The SDK error's name, e.g. `NoSuchEntityException`. */
  name: string;
  /** The HTTP status of AWS's answer; undefined when none came. */
  status: number | undefined;
  /** ` (request id …)`, or empty: ready to append to a message. */
  requestId: string;
  /** AWS's side failed (a 5xx): trying again later may help. */
  serverFault: boolean;
  /** One line, e.g. "access denied (request id …)". Holds no credentials and no token. */
  summary: string;
}

interface SdkError {
  name?: string;
  message?: string;
  code?: unknown;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const unreachableFix =
  "check the network, any proxy (HTTPS_PROXY), and --endpoint-url or AWS_ENDPOINT_URL if set";

/**
 * The one reading of an AWS SDK failure: what kind it is and a one-line summary. Credentials
 * never appear in SDK error messages, and only the first line of a message is kept.
 *
 * @example
 * const iam = new IAMClient({ region: "us-east-1", ...awsClientConfig({}) });
 * try {
 *   await iam.send(new GetRoleCommand({ RoleName: "payments-api" }));
 * } catch (error) {
 *   const failure = describeAwsFailure(error);
 *   if (failure.kind !== "not-found") throw error;
 * }
 */
export function describeAwsFailure(error: unknown): AwsFailure {
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkError;
  const name = e.name || "Error";
  const status = e.$metadata?.httpStatusCode;
  const requestId = e.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : "";
  const serverFault = e.$fault === "server" || (status ?? 0) >= 500;
  const base = { name, status, requestId, serverFault };
  const noAnswer = noAnswerMessage(error);
  if (noAnswer !== undefined) return { ...base, kind: "unreachable", summary: noAnswer };
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(e.message ?? "")) {
    return { ...base, kind: "no-credentials", summary: "no AWS credentials found" };
  }
  if (
    name === "InvalidClientTokenId" ||
    name === "SignatureDoesNotMatch" ||
    name === "ExpiredToken" ||
    name === "InvalidAccessKeyId"
  ) {
    return { ...base, kind: "credentials-rejected", summary: `AWS rejected the credentials (${name})` };
  }
  if (name === "AccessDenied" || name === "AccessDeniedException" || name === "Forbidden" || status === 403) {
    return { ...base, kind: "access-denied", summary: `access denied${requestId}` };
  }
  if (name === "NoSuchEntity" || name === "NoSuchEntityException" || status === 404) {
    return { ...base, kind: "not-found", summary: `${name}${requestId}` };
  }
  // Only the first line of the message: SDK messages never echo request parameters, but a
  // network error's may be long.
  const message = (e.message ?? "").split("\n")[0]?.slice(0, 200) ?? "";
  // No HTTP answer at all: refused, reset, not resolved, timed out, or an endpoint that is no URL.
  if (
    status === undefined &&
    (typeof e.code === "string" || name === "TimeoutError" || name === "TypeError")
  ) {
    const reason = typeof e.code === "string" ? e.code : name;
    return {
      ...base,
      kind: "unreachable",
      summary: `${reason}${message && message !== reason ? `: ${message}` : ""}`,
    };
  }
  const where = serverFault ? "AWS failed" : "the request failed";
  return {
    ...base,
    kind: "other",
    summary: `${where}: ${name}${status ? ` (HTTP ${status})` : ""}${message && message !== name ? `: ${message}` : ""}${requestId}`,
  };
}

/**
 * What to do about an AWS failure, for a check's fix or an error message.
 *
 * @example
 * const iam = new IAMClient({ region: "us-east-1", ...awsClientConfig({}) });
 * try {
 *   await iam.send(new GetRoleCommand({ RoleName: "payments-api" }));
 * } catch (error) {
 *   console.error(awsFix(describeAwsFailure(error), ["iam:GetRole"])); // "grant this identity iam:GetRole"
 * }
 */
export function awsFix(failure: AwsFailure, actions: readonly string[]): string {
  switch (failure.kind) {
    case "no-credentials":
    case "credentials-rejected":
      return "set AWS_PROFILE (and aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is available";
    case "access-denied":
      return `grant this identity ${actions.join(", ")}`;
    default:
      return "check the network and AWS_REGION / AWS_ENDPOINT_URL, then run again";
  }
}

/**
 * An AWS failure of a call that cannot go on without it, as an {@link IamError} whose message
 * lists the actions tried, what went wrong and what to do: a failed `sts:GetCallerIdentity`
 * becomes `awsError(error, ["sts:GetCallerIdentity"])`.
 */
export function awsError(error: unknown, actions: readonly string[]): IamError {
  const failure = describeAwsFailure(error);
  return new IamError(
    codeOf(failure),
    `${actions.join(", ")}: ${failure.summary}; ${awsFix(failure, actions)}`,
    {
      cause: error,
    },
  );
}

/**
 * An AWS failure as one line that names the permission and the resource, for a call that
 * changes something (a publish, a provider's registration).
 *
 * @example
 * const iam = new IAMClient({ region: "us-east-1", ...awsClientConfig({}) });
 * try {
 *   await iam.send(new ListOpenIDConnectProvidersCommand({}));
 * } catch (error) {
 *   throw translateAwsError(error, { action: "iam:ListOpenIDConnectProviders", resource: "*" });
 * }
 */
export function translateAwsError(error: unknown, operation: AwsOperation): IamError {
  const failure = describeAwsFailure(error);
  const { name, status, requestId } = failure;
  const code = codeOf(failure);
  switch (failure.kind) {
    case "no-credentials":
      return new IamError(
        code,
        "no AWS credentials found; set AWS_PROFILE (and aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is available",
        { cause: error },
      );
    case "credentials-rejected":
      return new IamError(
        code,
        `AWS rejected the credentials (${name}); refresh them (aws sso login, or new access keys) and run again`,
        { cause: error },
      );
    case "access-denied":
      return new IamError(
        code,
        `access denied: this identity needs ${operation.action} on ${operation.resource}${requestId}; grant it (examples/iam/publisher-policy.json lists every permission the publisher needs)`,
        { cause: error },
      );
    case "unreachable": {
      const service = operation.action.split(":")[0]?.toUpperCase() ?? "AWS";
      const what =
        noAnswerMessage(error) ??
        `cannot reach ${service} for ${operation.action.split(" ")[0]}: ${failure.summary.split(":")[0]}`;
      return new IamError(code, `${what}; ${unreachableFix}`, { cause: error });
    }
    default:
      return new IamError(
        code,
        `${failure.serverFault ? "AWS failed" : "AWS refused"} ${operation.action} on ${operation.resource}: ${name}${status ? ` (HTTP ${status})` : ""}${requestId}; ${failure.serverFault ? "try again later" : "check the request"}`,
        { cause: error },
      );
  }
}

function codeOf(failure: AwsFailure): IamError["code"] {
  switch (failure.kind) {
    case "no-credentials":
    case "credentials-rejected":
      return "ERR_AWS_NO_CREDENTIALS";
    case "access-denied":
      return "ERR_AWS_ACCESS_DENIED";
    case "unreachable":
      return "ERR_AWS_UNREACHABLE";
    default:
      return "ERR_AWS_REQUEST_FAILED";
  }
}

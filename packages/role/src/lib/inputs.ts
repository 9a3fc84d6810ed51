import { quoteInput } from "@irsa-anywhere/errors";
import { MIN_TOKEN_EXPIRATION_SECONDS } from "@irsa-anywhere/iam";
import { RoleError } from "../errors.js";

// IAM's own rules: CreateRole's RoleName, a policy ARN, MaxSessionDuration.
const roleNamePattern = /^[\w+=,.@-]{1,64}$/;
const policyArnPattern = /^arn:(aws[a-z0-9-]*):iam::(aws|\d{12}):policy\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]+$/;
const MIN_SESSION_SECONDS = 3600;
const MAX_SESSION_SECONDS = 43_200;
/** PutRolePolicy takes at most 10,240 characters of policy (whitespace aside). */
const MAX_INLINE_POLICY_CHARS = 10_240;

/**
 * @internal
 * @throws {RoleError} `ERR_ROLE_NAME_INVALID`.
 */
export function assertRoleName(name: string): void {
  if (!roleNamePattern.test(name)) {
    throw new RoleError(
      "ERR_ROLE_NAME_INVALID",
      `role name ${quoteInput(name)} is not valid for IAM: up to 64 letters, digits and +=,.@_- (no path, no ARN); write it like payments-api`,
    );
  }
}

/**
 * @internal The partition a policy ARN names.
 * @throws {RoleError} `ERR_POLICY_ARN_INVALID`.
 */
export function policyArnPartition(arn: string, what: string): string {
  const match = policyArnPattern.exec(arn);
  if (!match) {
    throw new RoleError(
      "ERR_POLICY_ARN_INVALID",
      `${what} ${quoteInput(arn)} is not an IAM policy ARN; write it like arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::111122223333:policy/payments`,
    );
  }
  return match[1] as string;
}

/**
 * @internal
 * @throws {RoleError} `ERR_ARN_PARTITION_MISMATCH` for an ARN of another partition than the role's.
 */
export function assertPartition(arn: string, arnPartition: string, partition: string, what: string): void {
  if (arnPartition !== partition) {
    throw new RoleError(
      "ERR_ARN_PARTITION_MISMATCH",
      `${what} ${quoteInput(arn)} is in partition ${arnPartition}, but the role and its OIDC provider are in ${partition}; give the ${partition} ARN (arn:${partition}:...) or use credentials of the other partition`,
    );
  }
}

/**
 * @internal An inline permissions policy, as JSON text or an object, checked to be a policy
 * document IAM could take; the text PutRolePolicy is sent.
 * @throws {RoleError} `ERR_POLICY_INVALID`.
 */
export function inlinePolicyDocument(policy: string | object, what: string): Record<string, unknown> {
  let document: unknown = policy;
  if (typeof policy === "string") {
    try {
      document = JSON.parse(policy);
    } catch {
      // The parser's message quotes the input, which may be anything: it is not repeated.
      throw new RoleError(
        "ERR_POLICY_INVALID",
        `${what} is not JSON; give an IAM policy document such as {"Version": "2012-10-17", "Statement": [...]}`,
      );
    }
  }
  const problem = policyProblem(document);
  if (problem) {
    throw new RoleError(
      "ERR_POLICY_INVALID",
      `${what} is not an IAM policy: ${problem}; give a document such as {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}`,
    );
  }
  if (JSON.stringify(document).length > MAX_INLINE_POLICY_CHARS) {
    throw new RoleError(
      "ERR_POLICY_INVALID",
      `${what} is over the ${MAX_INLINE_POLICY_CHARS} characters IAM takes in an inline policy; attach a managed policy with --attach-policy-arn instead`,
    );
  }
  return document as Record<string, unknown>;
}

function policyProblem(document: unknown): string | undefined {
  if (!isObject(document)) return "it is not a JSON object";
  if (
    document.Version !== undefined &&
    document.Version !== "2012-10-17" &&
    document.Version !== "2008-10-17"
  ) {
    return `Version ${quoteInput(String(document.Version))} is neither 2012-10-17 nor 2008-10-17`;
  }
  const statements = [document.Statement].flat();
  if (document.Statement === undefined || statements.length === 0) return "it has no Statement";
  for (const [index, statement] of statements.entries()) {
    const at = `statement ${index + 1}`;
    if (!isObject(statement)) return `${at} is not an object`;
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny")
      return `${at} has no Effect Allow or Deny`;
    if (!("Action" in statement) && !("NotAction" in statement)) return `${at} has no Action`;
    if ("Principal" in statement || "NotPrincipal" in statement) {
      return `${at} names a Principal, which a permissions policy cannot (that belongs in a trust policy)`;
    }
  }
  return undefined;
}

/**
 * @internal
 * @throws {RoleError} `ERR_ROLE_OPTION_INVALID`.
 */
export function assertMaxSessionDuration(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < MIN_SESSION_SECONDS || seconds > MAX_SESSION_SECONDS) {
    throw new RoleError(
      "ERR_ROLE_OPTION_INVALID",
      `the maximum session duration must be whole seconds from 1h to 12h (3600 to 43200), not ${seconds}`,
    );
  }
}

/**
 * @internal
 * @throws {RoleError} `ERR_ROLE_OPTION_INVALID`.
 */
export function assertTokenExpiration(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < MIN_TOKEN_EXPIRATION_SECONDS || seconds > 2 ** 31 - 1) {
    throw new RoleError(
      "ERR_ROLE_OPTION_INVALID",
      `the token expiration must be whole seconds, at least ${MIN_TOKEN_EXPIRATION_SECONDS} (the pod identity webhook raises anything shorter), not ${seconds}`,
    );
  }
}

/** @internal */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @internal JSON with object keys sorted: two documents that mean the same compare equal. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : isObject(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((key) => [key, sort(v[key])]),
          )
        : v;
  return JSON.stringify(sort(value));
}

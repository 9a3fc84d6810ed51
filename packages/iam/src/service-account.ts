import { isDnsLabel, isDnsSubdomain, quoteInput } from "@irsa-anywhere/errors";
import { IamError } from "./errors.js";

/** A Kubernetes service account. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/**
 * The service account annotations the pod identity webhook reads, under its default prefix: the
 * one list that doctor checks and `role` writes.
 *
 * @example
 * const annotations: Record<string, string> = { "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/api" };
 * const roleArn = annotations[SERVICE_ACCOUNT_ANNOTATIONS.roleArn];
 */
export const SERVICE_ACCOUNT_ANNOTATIONS = {
  roleArn: "eks.amazonaws.com/role-arn",
  audience: "eks.amazonaws.com/audience",
  regional: "eks.amazonaws.com/sts-regional-endpoints",
  tokenExpiration: "eks.amazonaws.com/token-expiration",
  skipContainers: "eks.amazonaws.com/skip-containers",
} as const;

/** The webhook raises a shorter `token-expiration` to this many seconds (its pkg.MinTokenExpiration). */
export const MIN_TOKEN_EXPIRATION_SECONDS = 3600;

// A namespace is a DNS label; a service account's name a DNS subdomain (RFC 1123).

/**
 * Reads a service account as users write it: `NAMESPACE/NAME` (as kubectl names objects),
 * `NAMESPACE:NAME`, or its token's subject `system:serviceaccount:NAMESPACE:NAME`; and checks
 * both parts are names Kubernetes accepts. The one parser of every `--service-account`.
 *
 * @throws {IamError} `ERR_SERVICE_ACCOUNT_INVALID`.
 *
 * @example
 * parseServiceAccount("payments/api"); // { namespace: "payments", name: "api" }
 * parseServiceAccount("system:serviceaccount:payments:api"); // the same
 */
export function parseServiceAccount(text: string): ServiceAccountRef {
  const match = /^(?:system:serviceaccount:([^:/]+):([^:/]+)|([^:/]+)[/:]([^:/]+))$/.exec(text);
  const namespace = match?.[1] ?? match?.[3];
  const name = match?.[2] ?? match?.[4];
  if (!namespace || !name) {
    throw new IamError(
      "ERR_SERVICE_ACCOUNT_INVALID",
      `service account ${quoteInput(text)} is not NAMESPACE/NAME (or NAMESPACE:NAME, or system:serviceaccount:NAMESPACE:NAME); write it like payments/api`,
    );
  }
  assertNamespace(namespace);
  if (!isDnsSubdomain(name)) {
    throw new IamError(
      "ERR_SERVICE_ACCOUNT_INVALID",
      `service account name ${quoteInput(name)} is not a valid Kubernetes name (lower-case letters, digits, "-" and ".")`,
    );
  }
  return { namespace, name };
}

/**
 * @internal
 * @throws {IamError} `ERR_SERVICE_ACCOUNT_INVALID` for a name Kubernetes would refuse.
 */
export function assertNamespace(namespace: string): void {
  if (!isDnsLabel(namespace)) {
    throw new IamError(
      "ERR_SERVICE_ACCOUNT_INVALID",
      `namespace ${quoteInput(namespace)} is not a valid Kubernetes namespace (up to 63 lower-case letters, digits and "-")`,
    );
  }
}

/**
 * The `sub` claim of the service account's tokens, as kube-apiserver writes it.
 *
 * @example
 * serviceAccountSubject(parseServiceAccount("payments/api")); // "system:serviceaccount:payments:api"
 */
export function serviceAccountSubject(account: ServiceAccountRef): string {
  return `system:serviceaccount:${account.namespace}:${account.name}`;
}

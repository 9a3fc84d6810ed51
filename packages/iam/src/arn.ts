import { quoteInput } from "@irsa-anywhere/errors";
import { IamError } from "./errors.js";

/** A role ARN taken apart. */
export interface RoleArn {
  arn: string;
  partition: string;
  accountId: string;
  /** The role's name, without its path: what GetRole takes. */
  name: string;
}

// The pattern the pod identity webhook checks an annotation against.
const roleArnPattern = /^arn:(aws[a-z0-9-]*):iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]+)$/;

/**
 * The parts of a role ARN, or `undefined` when it is not one.
 *
 * @example
 * parseRoleArn("arn:aws:iam::111122223333:role/ops/payments-api")?.name; // "payments-api"
 */
export function parseRoleArn(arn: string): RoleArn | undefined {
  const match = roleArnPattern.exec(arn);
  if (!match) return undefined;
  const [, partition = "", accountId = "", , name = ""] = match;
  return { arn, partition, accountId, name };
}

/**
 * The parts of a role ARN, for an ARN the user gave.
 *
 * @throws {IamError} `ERR_ROLE_ARN_INVALID`.
 *
 * @example
 * requireRoleArn("arn:aws:iam::111122223333:role/payments-api").accountId; // "111122223333"
 */
export function requireRoleArn(arn: string): RoleArn {
  const parsed = parseRoleArn(arn);
  if (!parsed) {
    throw new IamError(
      "ERR_ROLE_ARN_INVALID",
      `${quoteInput(arn)} is not an IAM role ARN; write it like arn:aws:iam::111122223333:role/my-app`,
    );
  }
  return parsed;
}

/**
 * The ARN IAM gives the OIDC provider of an issuer (its URL without `https://`).
 *
 * @example
 * oidcProviderArn("aws", "111122223333", "oidc.example.com/prod");
 * // "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/prod"
 */
export function oidcProviderArn(partition: string, accountId: string, hostPath: string): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${hostPath}`;
}

/**
 * The issuer host and path an OIDC provider ARN names, or `undefined`.
 *
 * @example
 * providerHostPath("arn:aws:iam::111122223333:oidc-provider/oidc.example.com/prod"); // "oidc.example.com/prod"
 */
export function providerHostPath(arn: string): string | undefined {
  const marker = ":oidc-provider/";
  const at = arn.indexOf(marker);
  return at === -1 ? undefined : arn.slice(at + marker.length);
}

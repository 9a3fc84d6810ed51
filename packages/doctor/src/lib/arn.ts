import { quoteInput } from "@irsa-anywhere/errors";
import { DoctorError } from "../errors.js";

/** @internal A role ARN taken apart. */
export interface RoleArn {
  arn: string;
  partition: string;
  accountId: string;
  /** The role's name, without its path: what GetRole takes. */
  name: string;
}

// The pattern the pod identity webhook checks an annotation against.
const roleArnPattern = /^arn:(aws[a-z0-9-]*):iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]+)$/;

/** @internal The parts of a role ARN, or `undefined` when it is not one. */
export function parseRoleArn(arn: string): RoleArn | undefined {
  const match = roleArnPattern.exec(arn);
  if (!match) return undefined;
  const [, partition = "", accountId = "", , name = ""] = match;
  return { arn, partition, accountId, name };
}

/**
 * @internal
 * @throws {DoctorError} `ERR_ROLE_ARN_INVALID`.
 */
export function requireRoleArn(arn: string): RoleArn {
  const parsed = parseRoleArn(arn);
  if (!parsed) {
    throw new DoctorError(
      "ERR_ROLE_ARN_INVALID",
      `${quoteInput(arn)} is not an IAM role ARN; write it like arn:aws:iam::111122223333:role/my-app`,
    );
  }
  return parsed;
}

/** @internal The ARN IAM gives the OIDC provider of an issuer (its URL without `https://`). */
export function oidcProviderArn(partition: string, accountId: string, hostPath: string): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${hostPath}`;
}

/** @internal The issuer host and path an OIDC provider ARN names, or `undefined`. */
export function providerHostPath(arn: string): string | undefined {
  const marker = ":oidc-provider/";
  const at = arn.indexOf(marker);
  return at === -1 ? undefined : arn.slice(at + marker.length);
}

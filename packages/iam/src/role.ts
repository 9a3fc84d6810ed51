import type { IAMClient } from "@aws-sdk/client-iam";
import { type AwsFailure, describeAwsFailure } from "./aws-error.js";
import { loadAwsSdk } from "./aws-sdk.js";

/** A role's trust policy as IAM holds it, or why it could not be read. */
export type RoleLookup =
  | {
      kind: "found";
      document: string;
      arn: string | undefined;
      /** The role's tags, as GetRole lists them. */
      tags: { Key: string; Value: string }[];
      /** Seconds; IAM's default is 3600. */
      maxSessionDuration: number | undefined;
      permissionsBoundaryArn: string | undefined;
    }
  | { kind: "missing" }
  | { kind: "error"; failure: AwsFailure; error: unknown };

/**
 * The role of this name (without its path, as GetRole takes it), and its trust policy as IAM
 * returns it (URL-encoded). Never throws for an AWS failure: it is the lookup's `error`.
 *
 * @example
 * const lookup = await lookUpRole(await makeIamClient("aws"), "payments-api");
 * if (lookup.kind === "found") {
 *   const evaluation = evaluateTrustPolicy(lookup.document, {
 *     providerArn: "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/prod",
 *     issuerHostPath: "oidc.example.com/prod",
 *     subject: "system:serviceaccount:payments:api",
 *     audience: "sts.amazonaws.com",
 *   });
 *   console.log(evaluation.decision);
 * }
 */
export async function lookUpRole(client: IAMClient, roleName: string): Promise<RoleLookup> {
  const iam = loadAwsSdk<typeof import("@aws-sdk/client-iam")>(import.meta.url, "@aws-sdk/client-iam");
  try {
    const answer = await client.send(new iam.GetRoleCommand({ RoleName: roleName }));
    const role = answer.Role;
    return {
      kind: "found",
      document: role?.AssumeRolePolicyDocument ?? "",
      arn: role?.Arn,
      tags: (role?.Tags ?? []).flatMap((tag) => (tag.Key ? [{ Key: tag.Key, Value: tag.Value ?? "" }] : [])),
      maxSessionDuration: role?.MaxSessionDuration,
      permissionsBoundaryArn: role?.PermissionsBoundary?.PermissionsBoundaryArn,
    };
  } catch (error) {
    const failure = describeAwsFailure(error);
    return failure.kind === "not-found" ? { kind: "missing" } : { kind: "error", failure, error };
  }
}

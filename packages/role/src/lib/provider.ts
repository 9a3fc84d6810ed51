import type { IAMClient } from "@aws-sdk/client-iam";
import { lookUpOidcProvider, translateAwsError } from "@irsa-anywhere/iam";
import { RoleError } from "../errors.js";

/**
 * @internal
 * The issuer's IAM OIDC provider, which must exist and list the audience: `role` never creates
 * providers (publish does).
 * @throws {RoleError} `ERR_OIDC_PROVIDER_MISSING`.
 */
export async function requireProvider(
  client: IAMClient,
  issuer: string,
  hostPath: string,
  audience: string,
): Promise<{ arn: string; accountId: string; partition: string }> {
  const lookup = await lookUpOidcProvider(client, hostPath);
  if (lookup.kind === "error") {
    throw translateAwsError(lookup.error, { action: lookup.action, resource: lookup.resource });
  }
  if (lookup.kind === "missing") {
    throw new RoleError(
      "ERR_OIDC_PROVIDER_MISSING",
      `this AWS account has no IAM OIDC provider for ${issuer}; run irsa-anywhere publish for the cluster first (it registers the provider), then run this again`,
    );
  }
  if (!lookup.clientIds.includes(audience)) {
    throw new RoleError(
      "ERR_OIDC_PROVIDER_MISSING",
      `the IAM OIDC provider ${lookup.arn} does not list the audience ${audience} (it lists ${lookup.clientIds.join(", ") || "none"}); run irsa-anywhere publish --audience ${audience} first`,
    );
  }
  return { arn: lookup.arn, accountId: lookup.accountId, partition: lookup.partition };
}

import type { IAMClient } from "@aws-sdk/client-iam";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import { translateAwsError } from "@irsa-anywhere/iam";

type IamModule = typeof import("@aws-sdk/client-iam");

/** The tag that marks a provider as registered by this tool. */
export const MANAGED_BY_TAG = { Key: "managed-by", Value: "irsa-anywhere" } as const;
export const CLUSTER_TAG_KEY = "irsa-anywhere/cluster";

export interface OidcProviderOptions {
  iam: IamModule;
  client: IAMClient;
  issuer: string;
  /** Client IDs (audiences) the provider must list; default `["sts.amazonaws.com"]`. */
  audiences: readonly string[];
  clusterName?: string | undefined;
  dryRun: boolean;
}

export interface OidcProviderOutcome {
  /** Unknown only on a dry run that would create it. */
  arn: string | undefined;
  action: "create" | "update" | "unchanged";
  reason: string;
  written: boolean;
  audiencesAdded: string[];
}

/**
 * Makes sure an IAM OIDC identity provider exists for the issuer and lists the audiences.
 * Creates it if missing; adds missing audiences and tags to an existing one; never removes
 * anything and never deletes a provider. No thumbprint is sent: the IAM API no longer requires
 * one, and STS does not use it for issuers whose certificate chains to a public root CA (as S3's
 * and CloudFront's do); IAM fills it in itself.
 */
export async function ensureOidcProvider(options: OidcProviderOptions): Promise<OidcProviderOutcome> {
  const { iam, client, issuer, dryRun } = options;
  const hostPath = issuerHostPath(issuer);
  const arn = await findProviderArn(options, hostPath);
  const wantedTags = [
    MANAGED_BY_TAG,
    ...(options.clusterName ? [{ Key: CLUSTER_TAG_KEY, Value: options.clusterName }] : []),
  ];
  if (!arn) {
    if (!dryRun) {
      try {
        const created = await client.send(
          new iam.CreateOpenIDConnectProviderCommand({
            Url: issuer,
            ClientIDList: [...options.audiences],
            Tags: wantedTags,
          }),
        );
        return {
          arn: created.OpenIDConnectProviderArn,
          action: "create",
          reason: `no provider for ${hostPath}`,
          written: true,
          audiencesAdded: [...options.audiences],
        };
      } catch (error) {
        // Another publisher created it in between: carry on as for an existing one.
        if ((error as { name?: string }).name !== "EntityAlreadyExistsException") {
          throw translateAwsError(error, {
            action: "iam:CreateOpenIDConnectProvider",
            resource: `oidc-provider/${hostPath}`,
          });
        }
        return ensureOidcProvider(options);
      }
    }
    return {
      arn: undefined,
      action: "create",
      reason: `no provider for ${hostPath}`,
      written: false,
      audiencesAdded: [...options.audiences],
    };
  }
  let provider: import("@aws-sdk/client-iam").GetOpenIDConnectProviderCommandOutput;
  try {
    provider = await client.send(new iam.GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
  } catch (error) {
    throw translateAwsError(error, { action: "iam:GetOpenIDConnectProvider", resource: arn });
  }
  const listed = new Set(provider.ClientIDList ?? []);
  const missingAudiences = options.audiences.filter((audience) => !listed.has(audience));
  const tagged = new Map((provider.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
  const missingTags = wantedTags.filter((tag) => !tagged.has(tag.Key));
  if (missingAudiences.length === 0 && missingTags.length === 0) {
    return {
      arn,
      action: "unchanged",
      reason: "already lists the audiences",
      written: false,
      audiencesAdded: [],
    };
  }
  if (!dryRun) {
    for (const audience of missingAudiences) {
      try {
        await client.send(
          new iam.AddClientIDToOpenIDConnectProviderCommand({
            OpenIDConnectProviderArn: arn,
            ClientID: audience,
          }),
        );
      } catch (error) {
        throw translateAwsError(error, { action: "iam:AddClientIDToOpenIDConnectProvider", resource: arn });
      }
    }
    if (missingTags.length > 0) {
      try {
        await client.send(
          new iam.TagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, Tags: missingTags }),
        );
      } catch (error) {
        throw translateAwsError(error, { action: "iam:TagOpenIDConnectProvider", resource: arn });
      }
    }
  }
  const reasons = [
    ...(missingAudiences.length ? [`audience ${missingAudiences.join(", ")} added`] : []),
    ...(missingTags.length ? [`tag ${missingTags.map((t) => t.Key).join(", ")} added`] : []),
  ];
  return {
    arn,
    action: "update",
    reason: reasons.join("; "),
    written: !dryRun,
    audiencesAdded: missingAudiences,
  };
}

async function findProviderArn(options: OidcProviderOptions, hostPath: string): Promise<string | undefined> {
  try {
    const list = await options.client.send(new options.iam.ListOpenIDConnectProvidersCommand({}));
    return list.OpenIDConnectProviderList?.map((p) => p.Arn).find((arn) =>
      arn?.endsWith(`:oidc-provider/${hostPath}`),
    );
  } catch (error) {
    throw translateAwsError(error, { action: "iam:ListOpenIDConnectProviders", resource: "*" });
  }
}

import type { IAMClient } from "@aws-sdk/client-iam";
import { issuerHostPath } from "@irsa-anywhere/discovery";
import { providerHostPath } from "./arn.js";
import { type AwsFailure, describeAwsFailure, translateAwsError } from "./aws-error.js";
import { loadAwsSdk } from "./aws-sdk.js";

type IamModule = typeof import("@aws-sdk/client-iam");

/**
 * The tag that marks a provider (or a role) as made by this tool.
 *
 * @example
 * const ours = [{ Key: "managed-by", Value: "irsa-anywhere" }].some((tag) => tag.Key === MANAGED_BY_TAG.Key && tag.Value === MANAGED_BY_TAG.Value);
 */
export const MANAGED_BY_TAG = { Key: "managed-by", Value: "irsa-anywhere" } as const;
export const CLUSTER_TAG_KEY = "irsa-anywhere/cluster";

/** What IAM holds for an issuer, or why it could not be read. */
export type ProviderLookup =
  | {
      kind: "found";
      arn: string;
      accountId: string;
      partition: string;
      clientIds: string[];
      tags: { Key: string; Value: string }[];
    }
  | { kind: "missing"; otherArns: string[] }
  | { kind: "error"; failure: AwsFailure; action: string; resource: string; error: unknown };

/**
 * Finds the IAM OIDC provider named after the issuer (its URL without `https://`, byte for byte)
 * and the audiences (client IDs) it lists. Given the ARN an earlier run found (`knownArn`), it asks
 * for that provider alone, one request instead of two, and lists the account's providers only when
 * that ARN is another issuer's or the answer is not a provider. Never throws for an AWS failure:
 * it is the lookup's `error`, with the action that failed.
 *
 * @example
 * const lookup = await lookUpOidcProvider(await makeIamClient("aws"), "oidc.example.com/prod");
 * if (lookup.kind === "found" && !lookup.clientIds.includes("sts.amazonaws.com")) console.log("audience missing");
 */
export async function lookUpOidcProvider(
  client: IAMClient,
  hostPath: string,
  knownArn?: string,
): Promise<ProviderLookup> {
  const iam = loadAwsSdk<IamModule>(import.meta.url, "@aws-sdk/client-iam");
  if (knownArn !== undefined && providerHostPath(knownArn) === hostPath) {
    const found = await getProvider(iam, client, knownArn);
    // Gone, in another account, not allowed: the list says what there is.
    if (found.kind === "found") return found;
  }
  let arns: string[];
  try {
    const list = await client.send(new iam.ListOpenIDConnectProvidersCommand({}));
    arns = (list.OpenIDConnectProviderList ?? []).flatMap((entry) => (entry.Arn ? [entry.Arn] : []));
  } catch (error) {
    const action = "iam:ListOpenIDConnectProviders";
    return { kind: "error", failure: describeAwsFailure(error), action, resource: "*", error };
  }
  const arn = arns.find((candidate) => providerHostPath(candidate) === hostPath);
  if (!arn) return { kind: "missing", otherArns: arns };
  return getProvider(iam, client, arn);
}

async function getProvider(iam: IamModule, client: IAMClient, arn: string): Promise<ProviderLookup> {
  try {
    const provider = await client.send(
      new iam.GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
    );
    const [, partition = "aws", , , accountId = ""] = arn.split(":");
    const tags = (provider.Tags ?? []).flatMap((tag) =>
      tag.Key === undefined ? [] : [{ Key: tag.Key, Value: tag.Value ?? "" }],
    );
    return { kind: "found", arn, accountId, partition, clientIds: provider.ClientIDList ?? [], tags };
  } catch (error) {
    const action = "iam:GetOpenIDConnectProvider";
    return { kind: "error", failure: describeAwsFailure(error), action, resource: arn, error };
  }
}

/** What `ensureOidcProvider` registers, with which IAM client, and whether it may write. */
export interface OidcProviderOptions {
  iam: IamModule;
  client: IAMClient;
  issuer: string;
  /** Client IDs (audiences) the provider must list; default `["sts.amazonaws.com"]`. */
  audiences: readonly string[];
  clusterName?: string | undefined;
  dryRun: boolean;
  /**
   * What `lookUpOidcProvider` found for the issuer, when the caller already asked (a publish asks
   * while it writes the documents); default: look it up here.
   */
  lookup?: ProviderLookup | undefined;
}

/** What `ensureOidcProvider` did (or, in a dry run, would do) to the IAM OIDC provider. */
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
 *
 * @example
 * const outcome = await ensureOidcProvider({
 *   iam: await import("@aws-sdk/client-iam"),
 *   client: await makeIamClient("aws"),
 *   issuer: "https://oidc.example.com/prod",
 *   audiences: [DEFAULT_AUDIENCE],
 *   dryRun: true,
 * });
 * console.log(outcome.action, outcome.arn);
 */
export async function ensureOidcProvider(options: OidcProviderOptions): Promise<OidcProviderOutcome> {
  const { iam, client, issuer, dryRun } = options;
  const hostPath = issuerHostPath(issuer);
  const lookup = options.lookup ?? (await lookUpOidcProvider(client, hostPath));
  if (lookup.kind === "error") {
    throw translateAwsError(lookup.error, { action: lookup.action, resource: lookup.resource });
  }
  const wantedTags = [
    MANAGED_BY_TAG,
    ...(options.clusterName ? [{ Key: CLUSTER_TAG_KEY, Value: options.clusterName }] : []),
  ];
  if (lookup.kind === "missing") {
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
        return ensureOidcProvider({ ...options, lookup: undefined });
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
  const { arn } = lookup;
  const listed = new Set(lookup.clientIds);
  const missingAudiences = options.audiences.filter((audience) => !listed.has(audience));
  const tagged = new Map(lookup.tags.map((tag) => [tag.Key, tag.Value]));
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

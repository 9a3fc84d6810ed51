import type { STSClient } from "@aws-sdk/client-sts";
import type { AwsClientSettings } from "./aws-client.js";
import { makeStsClient } from "./aws-clients.js";
import { awsError } from "./aws-error.js";
import { loadAwsSdk } from "./aws-sdk.js";
import { partitionOf } from "./partition.js";

/** Where `callerIdentity` asks, and with which client. */
export interface CallerIdentityOptions {
  /** STS's region; default the SDK's (`AWS_REGION`, the profile's), else us-east-1. */
  region?: string | undefined;
  awsSettings?: AwsClientSettings | undefined;
  /** A client to use instead of one made from the environment (custom credentials, tests). */
  client?: STSClient | undefined;
  /**
   * The credentials of a client already made (its `config.credentials`, which the SDK resolves
   * once and keeps). Credentials from web identity (IRSA), assume-role, SSO or `AWS_ACCOUNT_ID`
   * carry the account: then that answers, in `region`'s partition, and STS is neither loaded nor
   * asked.
   */
  credentials?: (() => Promise<{ accountId?: string | undefined }>) | undefined;
}

/**
 * The account and partition of the caller's credentials: the account they carry, when given
 * `credentials` that do, else STS `GetCallerIdentity` (which no policy can deny). Throws an
 * `IamError` naming `sts:GetCallerIdentity` when STS cannot answer.
 *
 * @example
 * const { accountId, partition } = await callerIdentity({ awsSettings: { profile: "prod" } });
 */
export async function callerIdentity(
  options: CallerIdentityOptions = {},
): Promise<{ accountId: string; partition: string }> {
  const partitionOfRegion = () => (options.region ? partitionOf(options.region).name : "aws");
  const carried = await options.credentials?.().then(
    (credentials) => credentials.accountId,
    () => undefined, // STS names what is wrong with them
  );
  if (carried !== undefined && /^\d{12}$/.test(carried)) {
    return { accountId: carried, partition: partitionOfRegion() };
  }
  const sts = loadAwsSdk<typeof import("@aws-sdk/client-sts")>(import.meta.url, "@aws-sdk/client-sts");
  const client = options.client ?? (await makeStsClient(options.region, options.awsSettings)).client;
  try {
    const answer = await client.send(new sts.GetCallerIdentityCommand({}));
    const partition = answer.Arn?.split(":")[1];
    if (!answer.Account) throw new Error("GetCallerIdentity returned no account");
    return { accountId: answer.Account, partition: partition || partitionOfRegion() };
  } catch (error) {
    throw awsError(error, ["sts:GetCallerIdentity"]);
  } finally {
    if (!options.client) client.destroy();
  }
}

import type { IAMClient } from "@aws-sdk/client-iam";
import type { STSClient } from "@aws-sdk/client-sts";
import { type AwsClientSettings, makeAwsClient } from "./aws-client.js";
import { loadAwsSdk } from "./aws-sdk.js";
import { iamRegionOf, partitionOf } from "./partition.js";
import { resolvedRegion } from "./region.js";

/** STS's region when neither the options, the environment nor the profile name one. */
const DEFAULT_STS_REGION = "us-east-1";

/**
 * An STS client in the region given, else the SDK's (`AWS_REGION`, the profile's), else
 * us-east-1; `region` is the one it uses. The caller destroys the client.
 *
 * @example
 * const { client, region } = await makeStsClient(undefined, { profile: "prod" });
 */
export async function makeStsClient(
  region: string | undefined,
  settings: AwsClientSettings = {},
): Promise<{ client: STSClient; region: string }> {
  const sts = loadAwsSdk<typeof import("@aws-sdk/client-sts")>(import.meta.url, "@aws-sdk/client-sts");
  const make = (chosen: string | undefined) =>
    makeAwsClient(sts.STSClient, "STS", { region: chosen || undefined, maxAttempts: 3 }, settings);
  let client = make(region);
  const resolved = await resolvedRegion(client);
  if (resolved !== undefined) return { client, region: resolved };
  client.destroy();
  client = make(DEFAULT_STS_REGION);
  return { client, region: DEFAULT_STS_REGION };
}

/**
 * The partition name of the region the SDK would use: `region`, else `AWS_REGION` or the
 * profile's; `aws` when none is set (`"aws-cn"` for `"cn-north-1"`). Sends no request.
 *
 * @example
 * const iam = await makeIamClient(await partitionOfSdkRegion(undefined, { profile: "prod" }), { profile: "prod" });
 */
export async function partitionOfSdkRegion(
  region: string | undefined,
  settings: AwsClientSettings = {},
): Promise<string> {
  const { client, region: resolved } = await makeStsClient(region, settings);
  client.destroy();
  return partitionOf(resolved).name;
}

/**
 * An IAM client for a partition (`aws`, `aws-cn`, ...), made in the region IAM lives in there.
 *
 * @example
 * const iam = await makeIamClient("aws", { profile: "prod" });
 */
export async function makeIamClient(partition: string, settings: AwsClientSettings = {}): Promise<IAMClient> {
  const iam = loadAwsSdk<typeof import("@aws-sdk/client-iam")>(import.meta.url, "@aws-sdk/client-iam");
  return makeAwsClient(iam.IAMClient, "IAM", { region: iamRegionOf(partition), maxAttempts: 3 }, settings);
}

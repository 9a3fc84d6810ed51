import { createRequire } from "node:module";

type SdkPartitionData = { name: string; dnsSuffix: string; implicitGlobalRegion?: string };
let sdkPartition: ((region: string) => SdkPartitionData) | undefined;

/** An AWS partition: where a region's hosts and IAM ARNs live, as the SDK's partition data says. */
export interface Partition {
  /** `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, ...: the second field of an ARN. */
  name: string;
  /** `amazonaws.com`, `amazonaws.com.cn`, `c2s.ic.gov`, ... */
  dnsSuffix: string;
  /** The region a client of a global service such as IAM is made in: `us-east-1` for `aws`. */
  iamRegion: string;
}

// One region of each partition, only to find the partition in the SDK's data by its name: every
// fact about it (its DNS suffix, IAM's region) comes from that data. A test checks that each
// region still falls in the partition named here.
const regionOfPartition: Readonly<Record<string, string>> = {
  aws: "us-east-1",
  "aws-cn": "cn-north-1",
  "aws-us-gov": "us-gov-west-1",
  "aws-iso": "us-iso-east-1",
  "aws-iso-b": "us-isob-east-1",
  "aws-iso-e": "eu-isoe-west-1",
  "aws-iso-f": "us-isof-south-1",
  "aws-eusc": "eusc-de-east-1",
};

/** The name of every partition this project knows. */
export const PARTITION_NAMES: readonly string[] = Object.keys(regionOfPartition);

/**
 * The partition of a region by the SDK's partition data (its region list, then each partition's
 * region pattern): `cn-north-1` is `aws-cn`, `us-isob-east-1` is `aws-iso-b`; a region it does
 * not know is `aws`, as the SDK itself decides.
 *
 * @example
 * partitionOf("cn-north-1"); // { name: "aws-cn", dnsSuffix: "amazonaws.com.cn", iamRegion: "cn-northwest-1" }
 */
export function partitionOf(region: string): Partition {
  // Loaded on first use, synchronously: the SDK's client helpers take some 40 ms to load, which the
  // commands that never need a partition (keys, trust-policy --account-id) should not pay.
  sdkPartition ??= (
    createRequire(import.meta.url)("@aws-sdk/core/client") as typeof import("@aws-sdk/core/client")
  ).partition;
  // The data carries each partition's region for global services; the SDK's type does not name it yet.
  const found: SdkPartitionData = sdkPartition(region);
  return { name: found.name, dnsSuffix: found.dnsSuffix, iamRegion: found.implicitGlobalRegion ?? region };
}

/**
 * The partition of this name (an ARN's second field), or `aws` for a name the SDK does not know:
 * `partitionNamed("aws-us-gov").iamRegion` is `"us-gov-west-1"`.
 */
export function partitionNamed(name: string): Partition {
  return partitionOf(regionOfPartition[name] ?? "us-east-1");
}

/**
 * IAM is global; its clients are made in the partition's own region for global services
 * (`"us-east-1"` for `"aws"`).
 */
export function iamRegionOf(partition: string): string {
  return partitionNamed(partition).iamRegion;
}

import type { S3Client } from "@aws-sdk/client-s3";
import { quoteInput } from "@irsa-anywhere/errors";
import { type AwsClientSettings, loadAwsSdk, makeAwsClient, resolvedRegion } from "@irsa-anywhere/iam";
import { PublishError } from "../errors.js";

export type S3Module = typeof import("@aws-sdk/client-s3");

/** What an S3 client of this package is made from. */
export interface S3ClientSettings {
  region?: string | undefined;
  endpointUrl?: string | undefined;
  clients?: { s3?: S3Client } | undefined;
  aws?: AwsClientSettings | undefined;
}

/**
 * The S3 module (loaded here, so that nothing else pays for it), the endpoint in use and a client:
 * the caller's, or one made from the environment, with retries, the request timeout and the
 * requests-in-flight watch that a `--timeout` message names.
 */
export async function s3ClientFor(
  settings: S3ClientSettings,
): Promise<{ s3: S3Module; client: S3Client; endpoint: string | undefined }> {
  if (settings.endpointUrl !== undefined && settings.endpointUrl.trim() === "") {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      "the S3 endpoint URL is empty; give one (such as http://127.0.0.1:9000) or leave it out for AWS's",
    );
  }
  const s3 = loadAwsSdk<typeof import("@aws-sdk/client-s3")>(import.meta.url, "@aws-sdk/client-s3");
  const endpoint = settings.endpointUrl ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const client =
    settings.clients?.s3 ??
    makeAwsClient(
      s3.S3Client,
      "S3",
      {
        region: settings.region || undefined,
        maxAttempts: 5,
        ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      },
      settings.aws,
    );
  return { s3, client, endpoint };
}

/** The region given, or the client's (AWS_REGION, the profile's). */
export async function resolveRegion(client: S3Client, given: string | undefined): Promise<string> {
  if (given) return given;
  const region = await resolvedRegion(client);
  if (!region) {
    throw new PublishError(
      "ERR_REGION_MISSING",
      "no AWS region given; add --region (the bucket's region) or set AWS_REGION",
    );
  }
  return region;
}

/**
 * A bucket's name, not its existence: S3 says whether it exists, and older buckets in us-east-1
 * may have capitals or underscores that today's naming rules refuse.
 *
 * @throws {PublishError} `ERR_TARGET_MISSING`.
 */
export function validateBucketName(bucket: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      `${quoteInput(bucket)} is not an S3 bucket name; give the bucket's name alone (no s3://, no slash), e.g. --bucket my-oidc-bucket`,
    );
  }
}

/**
 * The rules S3 applies to a bucket created today (general purpose buckets): 3 to 63 lower-case
 * letters, digits, dots and hyphens, a letter or digit at each end, no two dots in a row, not an
 * IP address, and none of the prefixes and suffixes S3 keeps for itself. {@link validateBucketName}
 * is looser on purpose, for buckets that already exist; this one is for a bucket about to be made,
 * so that a name S3 would refuse, or one whose virtual-hosted issuer host could never serve TLS
 * (capitals, underscores), is refused before any write.
 *
 * @throws {PublishError} `ERR_TARGET_MISSING`.
 */
export function validateNewBucketName(bucket: string): void {
  const reserved = /^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|--x-s3|\.mrap)$/;
  if (
    !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) ||
    bucket.includes("..") ||
    /^\d{1,3}(\.\d{1,3}){3}$/.test(bucket) ||
    reserved.test(bucket)
  ) {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      `${quoteInput(bucket)} cannot be a new S3 bucket's name: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit; choose another --bucket, e.g. my-oidc-bucket`,
    );
  }
}

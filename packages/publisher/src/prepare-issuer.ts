import type { ACMClient } from "@aws-sdk/client-acm";
import type { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { S3Client } from "@aws-sdk/client-s3";
import { jwksUriOf } from "@irsa-anywhere/discovery";
import { quoteInput } from "@irsa-anywhere/errors";
import { validateRegion } from "@irsa-anywhere/iam";
import type { BucketPolicyOutcome } from "./bucket-policy-write.js";
import {
  type CloudFrontOptions,
  type DistributionOutcome,
  prepareDistribution,
  validateCloudFrontOptions,
} from "./cloudfront.js";
import { PublishError } from "./errors.js";
import { type BucketAccessMode, ensureIssuerBucket, type IssuerBucketOutcome } from "./issuer-bucket.js";
import { resolveRegion, type S3ClientSettings, s3ClientFor, validateBucketName } from "./lib/s3-client.js";
import { normalizePrefix, s3Issuer } from "./s3-location.js";

/** What `prepareIssuer` takes. */
export interface PrepareIssuerOptions extends S3ClientSettings {
  bucket: string;
  /** Clients to use instead of ones made from the environment (custom credentials, tests). */
  clients?: { s3?: S3Client; cloudFront?: CloudFrontClient; acm?: ACMClient } | undefined;
  /** Object key prefix, so several clusters can share one bucket. */
  prefix?: string | undefined;
  /**
   * Serve the issuer through CloudFront from a private bucket instead of straight from S3. The
   * distribution's domain (or `domain`) is then the issuer, so the distribution is found or
   * created now, as `publish` with the same `cloudFront` finds it later. Not waited for: its
   * domain is known when it is made, and `publish` waits for it to deploy.
   */
  cloudFront?: Pick<CloudFrontOptions, "domain" | "certificateArn" | "priceClass"> | undefined;
  dryRun?: boolean | undefined;
}

/** The issuer a new cluster is made with, and what was done to serve it. */
export interface PreparedIssuer {
  /**
   * Exactly as the cluster's tokens will carry it in `iss`. In a dry run with CloudFront and no
   * distribution yet, a stand-in: `https://new-distribution.cloudfront.net[/PREFIX]`.
   */
  issuer: string;
  /** Where the keys will be: what kube-apiserver's `--service-account-jwks-uri` names. */
  jwksUri: string;
  mode: "s3" | "cloudfront";
  bucket: IssuerBucketOutcome;
  distribution?: DistributionOutcome | undefined;
  /** With CloudFront: the bucket policy statement that lets exactly the distribution read the documents. */
  bucketPolicy?: BucketPolicyOutcome | undefined;
  /** Things to fix that did not stop it, such as a public grant of the documents left in the bucket policy. */
  warnings: string[];
  dryRun: boolean;
}

/**
 * Decides a new cluster's issuer before the cluster exists, and makes what will serve it: the
 * bucket and, with `cloudFront`, the distribution in front of it (with its origin access control
 * and the bucket policy statement that lets exactly it read the two documents). The issuer is the
 * one `publish` then uses for the same bucket, prefix and region (and `cloudFront`). Idempotent: a
 * second call makes reads only.
 *
 * @throws {PublishError} for a bad bucket name or prefix, a bucket in another region or of
 * another account, no region; with `cloudFront`, `ERR_CLOUDFRONT_INVALID` for a bad `domain`,
 * `priceClass`, or `certificateArn` without `domain` or the reverse (before any request) and for
 * a distribution of this bucket and prefix that serves another domain; `ERR_CERTIFICATE_UNUSABLE`
 * for a certificate outside us-east-1 (before any request), or not issued or not covering
 * `domain` (before the bucket is made); `@irsa-anywhere/iam`'s
 * `IamError` for a bad region and other AWS failures.
 *
 * @example
 * const { issuer } = await prepareIssuer({ bucket: "my-oidc", prefix: "prod", region: "us-west-2" });
 * console.log(`spec.podIamConfig.serviceAccountIssuer: ${issuer}`);
 */
export async function prepareIssuer(options: PrepareIssuerOptions): Promise<PreparedIssuer> {
  const dryRun = options.dryRun ?? false;
  validateBucketName(options.bucket);
  if (options.region !== undefined) validateRegion(options.region);
  const prefix = validatePrefix(options.prefix);
  // Checked before any AWS call, so that nothing is made for an issuer that cannot be decided.
  if (options.cloudFront) validateCloudFrontOptions(options.cloudFront);
  const { s3, client } = await s3ClientFor(options);
  const region = await resolveRegion(client, options.region);
  const mode: BucketAccessMode = options.cloudFront ? "private" : "public-read-policy";
  const ensureBucket = () => ensureIssuerBucket({ s3, client, bucket: options.bucket, region, mode, dryRun });
  if (options.cloudFront === undefined) {
    const bucket = await ensureBucket();
    const issuer = s3Issuer({ bucket: options.bucket, region, prefix });
    return { issuer, jwksUri: jwksUriOf(issuer), mode: "s3", bucket, warnings: [], dryRun };
  }
  let bucket: IssuerBucketOutcome | undefined;
  const { issuer, distribution, bucketPolicy, warnings } = await prepareDistribution({
    // Its domain is the issuer from the moment it is made: `publish` waits for it to deploy.
    cloudFront: { ...options.cloudFront, wait: false },
    s3,
    s3Client: client,
    bucket: options.bucket,
    region,
    prefix,
    clients: options.clients,
    aws: options.aws,
    dryRun,
    // After the certificate check: a certificate CloudFront cannot use leaves no bucket made.
    beforeDistribution: async () => {
      bucket = await ensureBucket();
    },
  });
  if (bucket === undefined) throw new Error("prepareDistribution returned without making the bucket");
  return {
    issuer,
    jwksUri: jwksUriOf(issuer),
    mode: "cloudfront",
    bucket,
    distribution,
    bucketPolicy,
    warnings,
    dryRun,
  };
}

/** A prefix as object keys and the issuer's path take it: segments of URL-safe characters. */
function validatePrefix(prefix: string | undefined): string {
  const normalized = normalizePrefix(prefix);
  const segments = normalized.split("/");
  if (normalized === "" || segments.every((s) => /^[A-Za-z0-9._~-]+$/.test(s) && s !== "." && s !== "..")) {
    return normalized;
  }
  throw new PublishError(
    "ERR_TARGET_MISSING",
    `--prefix ${quoteInput(prefix ?? "")} is not a path of the issuer; use letters, digits, ".", "_", "~", "-" and "/" between segments, e.g. clusters/prod`,
  );
}

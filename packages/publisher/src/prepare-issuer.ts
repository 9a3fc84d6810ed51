import { DiscoveryError, jwksUriOf } from "@irsa-anywhere/discovery";
import { isDnsSubdomain, quoteInput } from "@irsa-anywhere/errors";
import { validateRegion } from "@irsa-anywhere/iam";
import { PublishError } from "./errors.js";
import { type BucketAccessMode, ensureIssuerBucket, type IssuerBucketOutcome } from "./issuer-bucket.js";
import { resolveRegion, type S3ClientSettings, s3ClientFor, validateBucketName } from "./lib/s3-client.js";
import { normalizePrefix, s3Issuer } from "./s3-location.js";

/** What a CloudFront distribution finder/creator is asked for: the one serving this bucket's prefix. */
export interface DistributionRequest {
  bucket: string;
  region: string;
  /** The object key prefix, normalized (`prod`, or empty). */
  prefix: string;
  /** A custom domain name the distribution answers to, whose certificate is in ACM. */
  domain?: string | undefined;
  dryRun: boolean;
}

/** What the distribution finder/creator found or made. */
export interface DistributionOutcome {
  /** `dXXXX.cloudfront.net`; with `dryRun` and no distribution yet, `undefined`. */
  domainName: string | undefined;
  id?: string | undefined;
  action: "create" | "unchanged";
  written: boolean;
}

/** Finds the distribution that serves the bucket, or creates it (dry run: says it would). */
export type FindOrCreateDistribution = (request: DistributionRequest) => Promise<DistributionOutcome>;

/**
 * The host a dry run shows for a distribution it would create: CloudFront names it only then.
 * CloudFront's own names are `d` and 13 characters, so this one is never a real distribution's.
 */
const NEW_DISTRIBUTION_HOST = "new-distribution.cloudfront.net";

/** What `prepareIssuer` takes. */
export interface PrepareIssuerOptions extends S3ClientSettings {
  bucket: string;
  /** Object key prefix, so several clusters can share one bucket. */
  prefix?: string | undefined;
  /**
   * Serve the issuer through CloudFront from a private bucket instead of straight from S3. The
   * distribution's domain (or `domain`) is then the issuer, so it is found or created now.
   */
  cloudfront?:
    | {
        domain?: string | undefined;
        /** The publisher's distribution finder/creator. */
        distribution?: FindOrCreateDistribution | undefined;
      }
    | undefined;
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
  dryRun: boolean;
}

/**
 * Decides a new cluster's issuer before the cluster exists, and makes the bucket that will
 * serve it: the same URL `publish` then uses for the same bucket, prefix and region. Idempotent:
 * a second call makes reads only.
 *
 * @throws {PublishError} for a bad bucket name or prefix, a bucket in another region or of
 * another account, no region, `ERR_CLOUDFRONT_UNAVAILABLE` for `cloudfront` without a
 * `distribution` finder; `DiscoveryError` for a `domain` that is no host name;
 * `@irsa-anywhere/iam`'s `IamError` for a bad region and other AWS failures.
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
  const domain = options.cloudfront?.domain;
  if (domain !== undefined && (!isDnsSubdomain(domain) || !domain.includes("."))) {
    throw new DiscoveryError(
      "ERR_ISSUER_INVALID",
      `--domain ${quoteInput(domain)} is not a domain name; give the host alone, such as oidc.example.com (no https://, no path)`,
    );
  }
  if (options.cloudfront && options.cloudfront.distribution === undefined) {
    // Checked before any AWS call, so that nothing is made for an issuer that cannot be decided.
    throw new PublishError(
      "ERR_CLOUDFRONT_UNAVAILABLE",
      "this build cannot find or create CloudFront distributions yet; leave --cloudfront out to serve the issuer from S3",
    );
  }
  const { s3, client } = await s3ClientFor(options);
  const region = await resolveRegion(client, options.region);
  const mode: BucketAccessMode = options.cloudfront ? "private" : "public-read-policy";
  const bucket = await ensureIssuerBucket({ s3, client, bucket: options.bucket, region, mode, dryRun });
  const decided = await decideIssuer({
    bucket: options.bucket,
    region,
    prefix,
    dryRun,
    cloudfront: options.cloudfront,
  });
  return {
    issuer: decided.issuer,
    jwksUri: jwksUriOf(decided.issuer),
    mode: options.cloudfront ? "cloudfront" : "s3",
    bucket,
    ...(decided.distribution ? { distribution: decided.distribution } : {}),
    dryRun,
  };
}

/**
 * The one decision of the issuer URL. S3: the bucket's own URL, as `publish --bucket B --prefix P`
 * makes it. CloudFront: the distribution's domain, or the custom domain it answers to.
 */
async function decideIssuer(request: {
  bucket: string;
  region: string;
  prefix: string;
  dryRun: boolean;
  cloudfront: PrepareIssuerOptions["cloudfront"];
}): Promise<{ issuer: string; distribution?: DistributionOutcome }> {
  const { bucket, region, prefix, dryRun, cloudfront } = request;
  if (cloudfront === undefined) return { issuer: s3Issuer({ bucket, region, prefix }) };

  // CloudFront: the distribution is found or made now, since its domain is the issuer. The
  // finder/creator is the publisher's (cloudfront.ts); prepareIssuer refused its absence above.
  const find = cloudfront.distribution as FindOrCreateDistribution;
  const distribution = await find({ bucket, region, prefix, domain: cloudfront.domain, dryRun });
  const host = cloudfront.domain ?? distribution.domainName ?? NEW_DISTRIBUTION_HOST;
  return { issuer: `https://${host}${prefix === "" ? "" : `/${prefix}`}`, distribution };
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

import { issuerPath, validateIssuer } from "@irsa-anywhere/discovery";
import { quoteInput } from "@irsa-anywhere/errors";
import { partitionOf } from "@irsa-anywhere/iam";
import { PublishError } from "./errors.js";

/** A prefix as given (`/clusters/prod/`) in the form object keys use (`clusters/prod`). */
export function normalizePrefix(prefix: string | undefined): string {
  return (prefix ?? "").replace(/^\/+|\/+$/g, "");
}

/**
 * The issuer URL of documents in a bucket: virtual-hosted
 * `https://BUCKET.s3.REGION.amazonaws.com[/PREFIX]`, or path-style
 * `https://s3.REGION.amazonaws.com/BUCKET[/PREFIX]` when the bucket name has dots (the wildcard
 * certificate of S3's hosts covers one label only).
 */
export function s3Issuer(options: { bucket: string; region: string; prefix?: string | undefined }): string {
  const { dnsSuffix } = partitionOf(options.region);
  const prefix = normalizePrefix(options.prefix);
  const base = options.bucket.includes(".")
    ? `https://s3.${options.region}.${dnsSuffix}/${options.bucket}`
    : `https://${options.bucket}.s3.${options.region}.${dnsSuffix}`;
  return prefix === "" ? base : `${base}/${prefix}`;
}

/** An issuer URL on one of S3's own endpoints, as S3 addresses a bucket from it. */
export interface S3IssuerUrl {
  bucket: string;
  /** The region the host names; `undefined` for the global `s3.amazonaws.com`. */
  region: string | undefined;
  /** `amazonaws.com` or `amazonaws.com.cn`. */
  dnsSuffix: string;
  /** The object key prefix: the path after the bucket, decoded as S3 decodes it. */
  prefix: string;
}

// s3, s3.REGION, s3-REGION, s3.dualstack.REGION, s3-fips.REGION, s3-fips.dualstack.REGION and
// the legacy s3-external-1 (us-east-1), on amazonaws.com or amazonaws.com.cn (GovCloud's
// us-gov-* regions are on amazonaws.com).
const S3_ENDPOINT =
  /^(?:(?<bucket>.+)\.)?s3(?:-fips)?(?:[.-]dualstack)?(?:[.-](?<region>[a-z]{2}(?:-[a-z]+)+-\d+|external-1))?\.(?<suffix>amazonaws\.com(?:\.cn)?)$/;

/**
 * Reads an issuer URL the way S3 reads a request URL: virtual-hosted (`BUCKET.s3.REGION.
 * amazonaws.com/PREFIX`, also `s3-REGION`, `s3`, dualstack and FIPS hosts) or path-style
 * (`s3.REGION.amazonaws.com/BUCKET/PREFIX`). `undefined` when the host is not S3's. For
 * `https://s3-us-west-2.amazonaws.com/my-bucket/prod`: `{ bucket: "my-bucket", region:
 * "us-west-2", dnsSuffix: "amazonaws.com", prefix: "prod" }`.
 */
export function s3IssuerUrl(issuer: string): S3IssuerUrl | undefined {
  const match = S3_ENDPOINT.exec(new URL(validateIssuer(issuer)).hostname);
  if (!match?.groups) return undefined;
  const { bucket: hostBucket, region: hostRegion, suffix } = match.groups;
  const region = hostRegion === "external-1" ? "us-east-1" : hostRegion;
  const path = issuerPath(issuer);
  if (hostBucket !== undefined)
    return { bucket: hostBucket, region, dnsSuffix: suffix as string, prefix: path };
  const [bucket = "", ...rest] = path.split("/");
  if (bucket === "") return undefined; // the endpoint itself: no bucket
  return { bucket, region, dnsSuffix: suffix as string, prefix: rest.join("/") };
}

/**
 * The object key prefix for an issuer in a bucket. An issuer on one of S3's own endpoints must
 * name this bucket and its region (any spelling S3 answers to), and gives the prefix by the path
 * after the bucket, with or without `external`. Another host (`external`, e.g. CloudFront) maps
 * its path to object keys one to one unless a prefix is given. Paths are decoded as S3 decodes
 * them: `c%34` is the key `c4`.
 *
 * @throws {PublishError} `ERR_ISSUER_MISMATCH` when the issuer is another bucket's, another
 * region's, or (without `external`) not on S3 at all.
 */
export function objectPrefixForIssuer(options: {
  issuer: string;
  bucket: string;
  region: string;
  prefix?: string | undefined;
  external?: boolean | undefined;
}): string {
  const issuer = validateIssuer(options.issuer);
  const onS3 = s3IssuerUrl(issuer);
  if (onS3 === undefined) {
    if (options.external) {
      return options.prefix === undefined ? issuerPath(issuer) : normalizePrefix(options.prefix);
    }
    throw new PublishError(
      "ERR_ISSUER_MISMATCH",
      `issuer ${quoteInput(issuer)} is not on bucket ${options.bucket}'s S3 host (${s3Issuer(options)}); leave --issuer out to use that, or add --external-issuer if something such as CloudFront serves the bucket at ${new URL(issuer).host}`,
    );
  }
  if (onS3.bucket !== options.bucket) {
    throw new PublishError(
      "ERR_ISSUER_MISMATCH",
      `issuer ${quoteInput(issuer)} is bucket ${quoteInput(onS3.bucket)}'s S3 URL, not bucket ${options.bucket}'s; publish to --bucket ${onS3.bucket}, or leave --issuer out to use ${s3Issuer(options)}`,
    );
  }
  const { dnsSuffix } = partitionOf(options.region);
  const hostRegion = onS3.region ?? `the global endpoint of ${onS3.dnsSuffix}`;
  if ((onS3.region !== undefined && onS3.region !== options.region) || onS3.dnsSuffix !== dnsSuffix) {
    throw new PublishError(
      "ERR_ISSUER_MISMATCH",
      `issuer ${quoteInput(issuer)} is on S3 in ${hostRegion}, but bucket ${options.bucket} is in ${options.region}; give the bucket's own region with --region, or use ${s3Issuer(options)}`,
    );
  }
  if (options.prefix !== undefined && normalizePrefix(options.prefix) !== onS3.prefix) {
    throw new PublishError(
      "ERR_ISSUER_MISMATCH",
      `--prefix ${quoteInput(options.prefix)} does not match the issuer's path (${onS3.prefix || "none"}); give one or the other`,
    );
  }
  return onS3.prefix;
}

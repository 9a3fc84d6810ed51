import { issuerPath, validateIssuer } from "@irsa-anywhere/discovery";
import { PublishError } from "./errors.js";

/** An AWS partition: where a region's S3 hosts and IAM ARNs live. */
export interface Partition {
  /** `aws`, `aws-cn` or `aws-us-gov`: the second field of an ARN. */
  name: "aws" | "aws-cn" | "aws-us-gov";
  /** `amazonaws.com`, or `amazonaws.com.cn` in China. */
  dnsSuffix: string;
}

/** The partition of a region: `cn-*` is `aws-cn`, `us-gov-*` is `aws-us-gov`, the rest `aws`. */
export function partitionOf(region: string): Partition {
  if (region.startsWith("cn-")) return { name: "aws-cn", dnsSuffix: "amazonaws.com.cn" };
  if (region.startsWith("us-gov-")) return { name: "aws-us-gov", dnsSuffix: "amazonaws.com" };
  return { name: "aws", dnsSuffix: "amazonaws.com" };
}

/** IAM is global; its endpoint lives in the partition's main region. */
export function iamRegionOf(partition: Partition["name"]): string {
  return partition === "aws-cn" ? "cn-north-1" : partition === "aws-us-gov" ? "us-gov-west-1" : "us-east-1";
}

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

/**
 * The object key prefix for an issuer in a bucket. An issuer on the bucket's own S3 host gives it
 * by its path; one served by something else (`external`, e.g. CloudFront) maps its path to
 * object keys one to one unless a prefix is given.
 *
 * @throws {PublishError} `ERR_ISSUER_MISMATCH` when the issuer is not on the bucket's host.
 */
export function objectPrefixForIssuer(options: {
  issuer: string;
  bucket: string;
  region: string;
  prefix?: string | undefined;
  external?: boolean | undefined;
}): string {
  const issuer = validateIssuer(options.issuer);
  const path = issuerPath(issuer);
  if (options.external) return options.prefix === undefined ? path : normalizePrefix(options.prefix);
  const url = new URL(issuer);
  const { dnsSuffix } = partitionOf(options.region);
  const virtualHost = `${options.bucket}.s3.${options.region}.${dnsSuffix}`;
  const pathHost = `s3.${options.region}.${dnsSuffix}`;
  let prefix: string | undefined;
  if (url.host === virtualHost) prefix = path;
  else if (url.host === pathHost && (path === options.bucket || path.startsWith(`${options.bucket}/`))) {
    prefix = path.slice(options.bucket.length + 1);
  }
  if (prefix === undefined) {
    throw new PublishError(
      "ERR_ISSUER_MISMATCH",
      `issuer ${issuer} is not on bucket ${options.bucket}'s S3 host (${s3Issuer(options)}); leave --issuer out to use that, or add --external-issuer if something such as CloudFront serves the bucket at ${url.host}`,
    );
  }
  if (options.prefix !== undefined && normalizePrefix(options.prefix) !== prefix) {
    throw new PublishError(
      "ERR_ISSUER_MISMATCH",
      `--prefix ${options.prefix} does not match the issuer's path (${prefix || "none"}); give one or the other`,
    );
  }
  return prefix;
}

/**
 * Checks that a region is a region's name (a DNS label such as `us-west-2`), before it becomes part
 * of an endpoint's host name: `evil.com` would otherwise send the request elsewhere, or fail with
 * an error that names nothing.
 *
 * @throws {PublishError} `ERR_REGION_INVALID`.
 */
export function validateRegion(region: string): void {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/.test(region)) {
    throw new PublishError(
      "ERR_REGION_INVALID",
      `${JSON.stringify(region)} is not an AWS region; give one such as us-west-2 or cn-north-1`,
    );
  }
}

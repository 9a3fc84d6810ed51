import type { PublicAccessBlockConfiguration, S3Client } from "@aws-sdk/client-s3";
import { partitionOf } from "@irsa-anywhere/iam";
import { PublishError } from "./errors.js";
import { type S3Module, validateNewBucketName } from "./lib/s3-client.js";
import { type S3Operation, translateS3Error } from "./s3-error.js";

/**
 * How the issuer's documents are read: straight from S3 through a public-read bucket policy
 * (`public-read-policy`), or only by CloudFront through an origin access control (`private`).
 */
export type BucketAccessMode = "public-read-policy" | "private";

/** The four Block Public Access settings of a bucket, each on (`true`) or off. */
export interface BlockPublicAccess {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

/**
 * Block Public Access as a new bucket gets it for each mode. ACLs stay blocked in both: nothing
 * here ever grants by ACL. The public-read route needs a bucket policy that grants `*`, which
 * `BlockPublicPolicy` refuses and `RestrictPublicBuckets` ignores; CloudFront's origin access
 * control signs its reads, so the private mode keeps all four on.
 */
export const BLOCK_PUBLIC_ACCESS: Readonly<Record<BucketAccessMode, Readonly<BlockPublicAccess>>> = {
  "public-read-policy": {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: false,
  },
  private: {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  },
};

const BLOCK_PUBLIC_ACCESS_WORDS: Readonly<Record<BucketAccessMode, string>> = {
  "public-read-policy": "on for ACLs, off for bucket policies (publish --public-read-policy adds one)",
  private: "all on (only CloudFront reads it)",
};

/** What `ensureIssuerBucket` did, or would do with `dryRun`. */
export interface IssuerBucketOutcome {
  bucket: string;
  region: string;
  /** `create`: the bucket was made; `update`: its Block Public Access was changed. */
  action: "create" | "update" | "unchanged";
  reason: string;
  written: boolean;
  /** The bucket's Block Public Access after the call (with `dryRun`, as it would be). */
  blockPublicAccess: BlockPublicAccess;
}

/**
 * Makes sure the issuer's bucket exists in `region` and that its Block Public Access lets the
 * mode work. A missing bucket is created with {@link BLOCK_PUBLIC_ACCESS} of the mode. An
 * existing bucket is only ever loosened as far as the public-read mode needs (its
 * `BlockPublicPolicy` and `RestrictPublicBuckets` turned off) and never tightened, since other
 * things may read it. A second call with the same mode makes reads only.
 *
 * @throws {PublishError} `ERR_TARGET_MISSING` (a missing bucket whose name S3 would refuse to
 * create), `ERR_BUCKET_WRONG_REGION` (the bucket exists elsewhere) or
 * `ERR_BUCKET_TAKEN` (another account owns the name, or this identity may not read it); in
 * both cases nothing was changed.
 */
export async function ensureIssuerBucket(options: {
  s3: S3Module;
  client: S3Client;
  bucket: string;
  region: string;
  mode: BucketAccessMode;
  dryRun?: boolean | undefined;
}): Promise<IssuerBucketOutcome> {
  const { s3, client, bucket, region, mode } = options;
  const dryRun = options.dryRun ?? false;
  const wanted = BLOCK_PUBLIC_ACCESS[mode];
  const existing = await bucketRegion(options);
  if (existing === undefined) {
    validateNewBucketName(bucket);
    if (!dryRun) {
      try {
        await client.send(
          new s3.CreateBucketCommand({
            Bucket: bucket,
            // us-east-1 is the one region S3 refuses to be named in a location constraint.
            ...(region === "us-east-1"
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
          }),
        );
      } catch (error) {
        // Another run made it between the look and the create: from here it is an existing bucket.
        if ((error as { name?: string }).name === "BucketAlreadyOwnedByYou")
          return ensureIssuerBucket(options);
        throw translateS3Error(error, bucketOperation(options, "s3:CreateBucket"));
      }
      await putBlockPublicAccess(options, wanted);
    }
    return {
      bucket,
      region,
      action: "create",
      reason: `no bucket of that name yet; Block Public Access ${BLOCK_PUBLIC_ACCESS_WORDS[mode]}`,
      written: !dryRun,
      blockPublicAccess: { ...wanted },
    };
  }
  if (existing !== region) {
    throw new PublishError(
      "ERR_BUCKET_WRONG_REGION",
      `bucket ${bucket} already exists in ${existing}, not ${region}; run again with --region ${existing}, or choose another --bucket`,
    );
  }
  const current = await readBlockPublicAccess(options);
  const loosen =
    mode === "public-read-policy" && (current.BlockPublicPolicy || current.RestrictPublicBuckets);
  if (!loosen) {
    return {
      bucket,
      region,
      action: "unchanged",
      reason:
        mode === "private"
          ? "it exists; an existing bucket is never made more private than it is"
          : "it exists, and its Block Public Access allows the public-read bucket policy",
      written: false,
      blockPublicAccess: current,
    };
  }
  const next = { ...current, BlockPublicPolicy: false, RestrictPublicBuckets: false };
  if (!dryRun) await putBlockPublicAccess(options, next);
  return {
    bucket,
    region,
    action: "update",
    reason: "BlockPublicPolicy and RestrictPublicBuckets turned off, for the public-read bucket policy",
    written: !dryRun,
    blockPublicAccess: next,
  };
}

/** The bucket's region, or `undefined` when no bucket has the name. */
async function bucketRegion(options: {
  s3: S3Module;
  client: S3Client;
  bucket: string;
  region: string;
}): Promise<string | undefined> {
  const { s3, client, bucket, region } = options;
  try {
    const answer = await client.send(new s3.HeadBucketCommand({ Bucket: bucket }));
    return answer.BucketRegion ?? region;
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    if (status === 404 || e.name === "NotFound" || e.name === "NoSuchBucket") return undefined;
    if (status === 403) {
      throw new PublishError(
        "ERR_BUCKET_TAKEN",
        `bucket ${bucket} exists but this identity cannot use it: another account owns the name, or s3:ListBucket is not allowed; choose another --bucket, or check the identity's permissions`,
        { cause: error },
      );
    }
    throw translateS3Error(error, bucketOperation(options, "s3:ListBucket"));
  }
}

/** An S3 call on the bucket itself, for the one translation of its failures. */
function bucketOperation(options: { bucket: string; region: string }, action: string): S3Operation {
  const { bucket, region } = options;
  return { action, resource: `arn:${partitionOf(region).name}:s3:::${bucket}`, bucket, region };
}

/** A bucket's Block Public Access settings; a bucket with no configuration has every one off. */
export async function readBlockPublicAccess(options: {
  s3: S3Module;
  client: S3Client;
  bucket: string;
  region: string;
}): Promise<BlockPublicAccess> {
  try {
    const answer = await options.client.send(
      new options.s3.GetPublicAccessBlockCommand({ Bucket: options.bucket }),
    );
    return settingsOf(answer.PublicAccessBlockConfiguration ?? {});
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchPublicAccessBlockConfiguration") return settingsOf({});
    throw translateS3Error(error, bucketOperation(options, "s3:GetBucketPublicAccessBlock"));
  }
}

async function putBlockPublicAccess(
  options: { s3: S3Module; client: S3Client; bucket: string; region: string },
  settings: BlockPublicAccess,
): Promise<void> {
  try {
    await options.client.send(
      new options.s3.PutPublicAccessBlockCommand({
        Bucket: options.bucket,
        PublicAccessBlockConfiguration: settings,
      }),
    );
  } catch (error) {
    throw translateS3Error(error, bucketOperation(options, "s3:PutBucketPublicAccessBlock"));
  }
}

function settingsOf(config: PublicAccessBlockConfiguration): BlockPublicAccess {
  return {
    BlockPublicAcls: config.BlockPublicAcls ?? false,
    IgnorePublicAcls: config.IgnorePublicAcls ?? false,
    BlockPublicPolicy: config.BlockPublicPolicy ?? false,
    RestrictPublicBuckets: config.RestrictPublicBuckets ?? false,
  };
}

import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3Client } from "@aws-sdk/client-s3";
import { validateIssuer } from "@irsa-anywhere/discovery";
import type { PublicSigningKey } from "@irsa-anywhere/keys";
import { type AwsClientSettings, awsClientConfig, resolvedRegion, watchAwsRequests } from "./aws-client.js";
import { translateAwsError } from "./aws-errors.js";
import { mergeBucketPolicy, publicReadStatement } from "./bucket-policy.js";
import { directoryTarget } from "./directory-target.js";
import { PublishError } from "./errors.js";
import { ensureOidcProvider, type OidcProviderOutcome } from "./oidc-provider.js";
import { type PublishDocumentsResult, publishDocuments } from "./publish-documents.js";
import type { RotationRecord } from "./retention.js";
import {
  iamRegionOf,
  normalizePrefix,
  objectPrefixForIssuer,
  partitionOf,
  s3Issuer,
  validateRegion,
} from "./s3-location.js";
import { type S3Target, s3Target } from "./s3-target.js";

export const DEFAULT_AUDIENCE = "sts.amazonaws.com";

export interface PublishOptions {
  /** The cluster's current keys, e.g. from `publicKeysFromCluster`. */
  keys: readonly PublicSigningKey[];
  /**
   * The issuer, exactly as the cluster's tokens carry it. Required with `outDir`; with `bucket`
   * it defaults to the bucket's S3 URL (with `prefix`), and must be on that host unless
   * `externalIssuer` says something else (CloudFront) serves the bucket.
   */
  issuer?: string | undefined;
  /** Publish into this directory, for any static web host. */
  outDir?: string | undefined;
  /** Publish into this S3 bucket and register the IAM OIDC provider. */
  bucket?: string | undefined;
  /** Object key prefix in the bucket, so several clusters can share one. */
  prefix?: string | undefined;
  /** The bucket's region; default the SDK's (`AWS_REGION`, the profile's). */
  region?: string | undefined;
  /** An S3 endpoint (S3-compatible store, local test); default `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`. */
  endpointUrl?: string | undefined;
  externalIssuer?: boolean | undefined;
  /** Audiences (client IDs) of the IAM provider; default `["sts.amazonaws.com"]`. */
  audiences?: readonly string[] | undefined;
  /** Add a bucket policy statement that makes exactly the two documents publicly readable. */
  publicReadPolicy?: boolean | undefined;
  /** Register the IAM OIDC provider (default true with a bucket). */
  oidcProvider?: boolean | undefined;
  /** Tags the IAM provider with the cluster's name. */
  clusterName?: string | undefined;
  emptyKidTwin?: boolean | undefined;
  /** Keys to publish ahead of a rotation, beside the cluster's. */
  pendingKeys?: readonly PublicSigningKey[] | undefined;
  /** Kids published ahead of a rotation that was given up: they retire now (`withdrawRotation`). */
  withdrawKeys?: readonly string[] | undefined;
  /** Record or (with `null`) clear the rotation in progress (the rotate phases). */
  rotation?: RotationRecord | null | undefined;
  /** Read the state even when no retention is to be decided (the rotate phases). */
  readState?: boolean | undefined;
  /** How long a key stays published after it left the cluster; default `DEFAULT_RETAIN_MS`. */
  retainMs?: number | undefined;
  /** The clock (tests). */
  now?: (() => Date) | undefined;
  dryRun?: boolean | undefined;
  /** Clients to use instead of ones made from the environment (custom credentials, tests). */
  clients?: { s3?: S3Client; iam?: IAMClient } | undefined;
  /** The profile and timeouts of the clients made here. */
  aws?: AwsClientSettings | undefined;
}

export interface BucketPolicyOutcome {
  action: "create" | "update" | "unchanged";
  reason: string;
  written: boolean;
  sid: string;
}

export interface PublishResult extends PublishDocumentsResult {
  target:
    | { kind: "directory"; path: string }
    | { kind: "s3"; bucket: string; prefix: string; region: string };
  bucketPolicy?: BucketPolicyOutcome;
  oidcProvider?: OidcProviderOutcome;
  /** Things the user should fix that did not stop the publish, one line each. */
  warnings: string[];
}

/**
 * Publishes a cluster's issuer: the documents to a directory or an S3 bucket and, for a bucket,
 * the IAM OIDC provider. Idempotent: what is already right is left alone, so a republish of an
 * unchanged key writes nothing (and, for a bucket whose documents are public, makes four requests).
 *
 * @example
 * const result = await publish({ keys, bucket: "my-oidc", prefix: "prod", region: "us-west-2" });
 * console.log(result.issuer, result.oidcProvider?.arn);
 */
export async function publish(options: PublishOptions): Promise<PublishResult> {
  if ((options.outDir === undefined) === (options.bucket === undefined)) {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      "say where to publish: a directory (--out-dir) or a bucket (--bucket), one of them",
    );
  }
  if (options.outDir !== undefined) {
    if (options.issuer === undefined) {
      throw new PublishError(
        "ERR_TARGET_MISSING",
        "publishing to a directory needs the issuer URL (--issuer) that will serve it",
      );
    }
    const documents = await publishDocuments({
      issuer: options.issuer,
      target: directoryTarget(options.outDir),
      ...documentOptions(options),
    });
    return { ...documents, target: { kind: "directory", path: options.outDir } };
  }
  return publishToBucket(options, options.bucket as string);
}

async function publishToBucket(options: PublishOptions, bucket: string): Promise<PublishResult> {
  const dryRun = options.dryRun ?? false;
  if (options.issuer !== undefined) validateIssuer(options.issuer);
  // The name, not its existence: S3 says whether it exists, and older buckets in us-east-1 may
  // have capitals or underscores that today's naming rules refuse.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      `"${bucket}" is not an S3 bucket name; give the bucket's name alone (no s3://, no slash), e.g. --bucket my-oidc-bucket`,
    );
  }
  const blankAudience = options.audiences?.find((audience) => audience.trim() === "");
  if (blankAudience !== undefined) {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      "an audience is empty; give each --audience a value, such as sts.amazonaws.com (the default)",
    );
  }
  if (options.region !== undefined) validateRegion(options.region);
  if (options.endpointUrl !== undefined && options.endpointUrl.trim() === "") {
    throw new PublishError(
      "ERR_TARGET_MISSING",
      "the S3 endpoint URL is empty; give one (such as http://127.0.0.1:9000) or leave it out for AWS's",
    );
  }
  const s3 = await import("@aws-sdk/client-s3");
  const endpoint = options.endpointUrl ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const client =
    options.clients?.s3 ??
    watchAwsRequests(
      new s3.S3Client({
        ...(options.region ? { region: options.region } : {}),
        ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        maxAttempts: 5,
        ...awsClientConfig(options.aws ?? {}),
      }),
      "S3",
      options.aws ?? {},
    );
  const region = await resolveRegion(client, options.region);
  const issuer = options.issuer ?? s3Issuer({ bucket, region, prefix: normalizePrefix(options.prefix) });
  const prefix = objectPrefixForIssuer({
    issuer,
    bucket,
    region,
    prefix: options.prefix,
    external: options.externalIssuer,
  });
  const keyPrefix = prefix === "" ? "" : `${prefix}/`;
  const paths = { jwks: `${keyPrefix}keys.json`, discovery: `${keyPrefix}.well-known/openid-configuration` };
  const publicBaseUrl = options.externalIssuer
    ? undefined
    : endpoint
      ? `${endpoint.replace(/\/+$/, "")}/${bucket}`
      : s3Issuer({ bucket, region });
  const target = s3Target({
    s3,
    client,
    bucket,
    region,
    publicBaseUrl,
    anonymousReadTimeoutMs: Math.min(10_000, options.aws?.requestTimeoutMs ?? 10_000),
  });
  const warnings: string[] = [];

  await target.prefetch([paths.jwks, paths.discovery]);
  const alreadyPublic =
    target.publiclyReadable(paths.jwks) === true && target.publiclyReadable(paths.discovery) === true;
  let bucketPolicy: BucketPolicyOutcome | undefined;
  if (options.publicReadPolicy && !alreadyPublic) {
    // Before any document is written: if Block Public Access refuses the policy, nothing is half-published.
    bucketPolicy = await ensurePublicReadPolicy({
      s3,
      client,
      bucket,
      region,
      objectKeys: [paths.jwks, paths.discovery],
      dryRun,
    });
  }

  const documents = await publishDocuments({ issuer, target, paths, ...documentOptions(options) });

  if (publicBaseUrl && !dryRun) {
    const readable = alreadyPublic || (await publicAfterPublish(target, paths.jwks));
    if (readable === false) {
      warnings.push(
        `${target.locate(paths.jwks)} cannot be read without credentials, so STS cannot fetch it; run again with --public-read-policy, or add the statement in examples/iam/bucket-policy.json`,
      );
    }
  }

  let oidcProvider: OidcProviderOutcome | undefined;
  if (options.oidcProvider ?? true) {
    const iam = await import("@aws-sdk/client-iam");
    const iamClient =
      options.clients?.iam ??
      watchAwsRequests(
        new iam.IAMClient({
          region: iamRegionOf(partitionOf(region).name),
          maxAttempts: 5,
          ...awsClientConfig(options.aws ?? {}),
        }),
        "IAM",
        options.aws ?? {},
      );
    oidcProvider = await ensureOidcProvider({
      iam,
      client: iamClient,
      issuer,
      audiences: options.audiences?.length ? options.audiences : [DEFAULT_AUDIENCE],
      clusterName: options.clusterName,
      dryRun,
    });
  }

  return {
    ...documents,
    changed: documents.changed || Boolean(bucketPolicy?.written) || oidcProvider?.action !== "unchanged",
    target: { kind: "s3", bucket, prefix, region },
    ...(bucketPolicy ? { bucketPolicy } : {}),
    ...(oidcProvider ? { oidcProvider } : {}),
    warnings: [...documents.warnings, ...warnings],
  };
}

/** The options that publishDocuments takes as they are, whatever the target. */
function documentOptions(options: PublishOptions) {
  return {
    keys: options.keys,
    emptyKidTwin: options.emptyKidTwin ?? true,
    dryRun: options.dryRun ?? false,
    ...(options.pendingKeys ? { pendingKeys: options.pendingKeys } : {}),
    ...(options.withdrawKeys ? { withdrawKeys: options.withdrawKeys } : {}),
    ...(options.rotation === undefined ? {} : { rotation: options.rotation }),
    ...(options.readState ? { readState: true } : {}),
    ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
    ...(options.now ? { now: options.now } : {}),
  };
}

async function publicAfterPublish(target: S3Target, key: string): Promise<boolean | undefined> {
  return target.publiclyReadable(key) === true ? true : target.probePublicRead(key);
}

async function resolveRegion(client: S3Client, given: string | undefined): Promise<string> {
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

async function ensurePublicReadPolicy(options: {
  s3: typeof import("@aws-sdk/client-s3");
  client: S3Client;
  bucket: string;
  region: string;
  objectKeys: string[];
  dryRun: boolean;
}): Promise<BucketPolicyOutcome> {
  const { s3, client, bucket, region } = options;
  const statement = publicReadStatement({
    partition: partitionOf(region).name,
    bucket,
    objectKeys: options.objectKeys,
  });
  const bucketArn = `arn:${partitionOf(region).name}:s3:::${bucket}`;
  const blocking = await blockingPublicAccessSettings(options);
  if (blocking.length > 0) {
    throw new PublishError(
      "ERR_PUBLIC_ACCESS_BLOCKED",
      `bucket ${bucket}'s Block Public Access setting ${blocking.join(" and ")} stops a public-read policy; turn ${blocking.length > 1 ? "them" : "it"} off (aws s3api put-public-access-block --bucket ${bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false) or serve the issuer through CloudFront`,
    );
  }
  let existing: string | undefined;
  try {
    existing = (await client.send(new s3.GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  } catch (error) {
    if ((error as { name?: string }).name !== "NoSuchBucketPolicy") {
      throw translateAwsError(error, { action: "s3:GetBucketPolicy", resource: bucketArn, bucket, region });
    }
  }
  const merged = mergeBucketPolicy(existing, statement);
  const sid = statement.Sid ?? "";
  if (!merged.changed)
    return { action: "unchanged", reason: "the public-read statement is there", written: false, sid };
  const action = existing === undefined ? "create" : "update";
  const reason =
    existing === undefined
      ? "the bucket has no policy"
      : "public-read statement added beside the existing ones";
  if (options.dryRun) return { action, reason, written: false, sid };
  try {
    await client.send(new s3.PutBucketPolicyCommand({ Bucket: bucket, Policy: merged.policy }));
  } catch (error) {
    const translated = translateAwsError(error, {
      action: "s3:PutBucketPolicy",
      resource: bucketArn,
      bucket,
      region,
    });
    if (translated.code === "ERR_AWS_ACCESS_DENIED") {
      throw new PublishError(
        "ERR_PUBLIC_ACCESS_BLOCKED",
        `AWS refused the public-read policy on bucket ${bucket}: either this identity lacks s3:PutBucketPolicy, or the account's Block Public Access (BlockPublicPolicy) is on; check aws s3control get-public-access-block --account-id <id>`,
        { cause: error },
      );
    }
    throw translated;
  }
  return { action, reason, written: true, sid };
}

async function blockingPublicAccessSettings(options: {
  s3: typeof import("@aws-sdk/client-s3");
  client: S3Client;
  bucket: string;
  region: string;
}): Promise<string[]> {
  try {
    const answer = await options.client.send(
      new options.s3.GetPublicAccessBlockCommand({ Bucket: options.bucket }),
    );
    const config = answer.PublicAccessBlockConfiguration ?? {};
    return [
      ...(config.BlockPublicPolicy ? ["BlockPublicPolicy"] : []),
      ...(config.RestrictPublicBuckets ? ["RestrictPublicBuckets"] : []),
    ];
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchPublicAccessBlockConfiguration") return [];
    throw translateAwsError(error, {
      action: "s3:GetBucketPublicAccessBlock",
      resource: `arn:${partitionOf(options.region).name}:s3:::${options.bucket}`,
      bucket: options.bucket,
      region: options.region,
    });
  }
}

import type { PublicSigningKey } from "@irsa-anywhere/keys";
import type { CloudFrontOptions, PublicReadScope, PublishOptions } from "@irsa-anywhere/publisher";
import type { Argv } from "yargs";
import { type AwsArgs, awsSettingsFromArgs, profileOption } from "./aws-options.js";
import { EMPTY_KID_OPTION } from "./empty-kid-option.js";
import type { KeySourceArgs } from "./key-sources.js";
import { note } from "./terminal.js";
import { UsageError } from "./usage-error.js";

export interface PublishTargetArgs extends KeySourceArgs, AwsArgs {
  issuer?: string | undefined;
  "out-dir"?: string | undefined;
  bucket?: string | undefined;
  prefix?: string | undefined;
  region?: string | undefined;
  "endpoint-url"?: string | undefined;
  "external-issuer": boolean;
  audience?: string | string[] | undefined;
  "public-read-policy": boolean;
  "public-read-scope": PublicReadScope;
  cloudfront: boolean;
  domain?: string | undefined;
  "certificate-arn"?: string | undefined;
  "price-class"?: string | undefined;
  wait: boolean;
  "oidc-provider": boolean;
  retain?: string | undefined;
  "empty-kid": boolean;
  "dry-run": boolean;
}

/**
 * The publisher's scopes, spelled here so that the command line does not load the publisher to
 * build its options; the type says if one is missing or misspelt.
 */
const PUBLIC_READ_SCOPES = ["auto", "exact", "document-names"] as const satisfies readonly PublicReadScope[];
const _everyScope: readonly (typeof PUBLIC_READ_SCOPES)[number][] = [] as PublicReadScope[];

/** --prefix, of `publish`, `rotate` and `init`. */
export const PREFIX_OPTION = {
  type: "string",
  requiresArg: true,
  describe: "Object key prefix (several clusters can share a bucket)",
  group: "Where:",
} as const;

/** --region, the bucket's, of `publish`, `rotate` and `init`. */
export const BUCKET_REGION_OPTION = {
  type: "string",
  requiresArg: true,
  describe: "The bucket's region (default AWS_REGION or the profile's)",
  group: "AWS:",
} as const;

/** --endpoint-url, of `publish`, `rotate` and `init`. */
export const ENDPOINT_URL_OPTION = {
  type: "string",
  requiresArg: true,
  describe: "S3 endpoint for S3-compatible stores and local tests",
  group: "AWS:",
} as const;

/** --domain, of `publish`, `rotate` and `init` with --cloudfront. */
export const DOMAIN_OPTION = {
  type: "string",
  requiresArg: true,
  describe:
    "With --cloudfront: the issuer's own host, e.g. oidc.example.com (point its DNS at the distribution)",
  group: "CloudFront:",
} as const;

/** --certificate-arn, of `publish`, `rotate` and `init` with --domain. */
export const CERTIFICATE_ARN_OPTION = {
  type: "string",
  requiresArg: true,
  describe: "With --domain: an ACM certificate in us-east-1, issued, covering the domain",
  group: "CloudFront:",
} as const;

/** --price-class, of `publish`, `rotate` and `init` with --cloudfront. */
export const PRICE_CLASS_OPTION = {
  type: "string",
  requiresArg: true,
  choices: ["PriceClass_100", "PriceClass_200", "PriceClass_All"],
  describe: "With --cloudfront: the edge locations of a new distribution (default PriceClass_100)",
  group: "CloudFront:",
} as const;

/**
 * Refuses --domain, --certificate-arn and --price-class without --cloudfront.
 *
 * @throws {UsageError}
 */
export function refuseCloudFrontOnlyOptions(args: {
  cloudfront: boolean;
  domain?: string | undefined;
  "certificate-arn"?: string | undefined;
  "price-class"?: string | undefined;
}): void {
  const cloudFrontOnly = (["domain", "certificate-arn", "price-class"] as const).filter(
    (name) => args[name] !== undefined,
  );
  if (!args.cloudfront && cloudFrontOnly.length > 0) {
    throw new UsageError(`--${cloudFrontOnly[0]} is for --cloudfront; add --cloudfront, or leave it out`);
  }
}

/** Where and how to publish: shared by `publish` and `rotate`. */
export function publishTargetOptions<T>(yargs: Argv<T>) {
  return profileOption(yargs)
    .option("bucket", {
      type: "string",
      requiresArg: true,
      describe: "S3 bucket to publish to",
      group: "Where:",
    })
    .option("prefix", PREFIX_OPTION)
    .option("out-dir", {
      type: "string",
      requiresArg: true,
      describe: "Publish into a directory instead, for any static web host",
      group: "Where:",
    })
    .option("issuer", {
      type: "string",
      requiresArg: true,
      describe:
        "Issuer URL (default with --bucket: https://BUCKET.s3.REGION.amazonaws.com[/PREFIX]; path-style https://s3-REGION.amazonaws.com/BUCKET[/PREFIX] works too)",
      group: "Where:",
    })
    .option("external-issuer", {
      type: "boolean",
      default: false,
      describe:
        "The issuer is served from the bucket by something else, such as CloudFront (not needed for any S3 URL of the bucket)",
      group: "Where:",
    })
    .option("region", BUCKET_REGION_OPTION)
    .option("endpoint-url", ENDPOINT_URL_OPTION)
    .option("audience", {
      type: "string",
      nargs: 1,
      describe:
        "Audience of the IAM OIDC provider, repeatable, 1-255 characters, at most 100 (default sts.amazonaws.com)",
      group: "AWS:",
    })
    .option("public-read-policy", {
      type: "boolean",
      default: false,
      describe: "Add a bucket policy statement making the two documents public",
      group: "AWS:",
    })
    .option("public-read-scope", {
      choices: PUBLIC_READ_SCOPES,
      default: "auto" as PublicReadScope,
      describe:
        "What that statement grants: exact (this issuer's two objects; one statement per cluster), document-names (every keys.json and .well-known/openid-configuration in the bucket; one statement for all), auto (exact until the policy nears S3's 20 KB limit)",
      group: "AWS:",
    })
    .option("cloudfront", {
      type: "boolean",
      default: false,
      describe:
        "Keep the bucket private and serve the issuer through a CloudFront distribution (found or created), at https://dXXXX.cloudfront.net[/PREFIX]",
      group: "CloudFront:",
    })
    .option("domain", DOMAIN_OPTION)
    .option("certificate-arn", CERTIFICATE_ARN_OPTION)
    .option("price-class", PRICE_CLASS_OPTION)
    .option("wait", {
      type: "boolean",
      default: true,
      describe:
        "With --cloudfront: wait (within --timeout) for the distribution to deploy; --no-wait publishes the documents and says what is left",
      group: "CloudFront:",
    })
    .option("oidc-provider", {
      type: "boolean",
      default: true,
      describe: "Register the IAM OIDC provider (--no-oidc-provider to skip)",
      group: "AWS:",
    })
    .option("retain", {
      type: "string",
      requiresArg: true,
      describe:
        "How long a key stays published after it left the cluster (default 25h5m: 24h tokens + cache + margin)",
    })
    .option("empty-kid", EMPTY_KID_OPTION)
    .option("dry-run", {
      type: "boolean",
      default: false,
      describe: "Show what would be created, written or left alone; touch nothing",
    });
}

/** The library's options from the command line; the CLI adds nothing of its own. */
export async function publishOptionsFromArgs(
  args: PublishTargetArgs,
  keys: readonly PublicSigningKey[],
): Promise<PublishOptions> {
  if ((args["out-dir"] === undefined) === (args.bucket === undefined)) {
    throw new UsageError("say where to publish: --bucket NAME or --out-dir DIR (one of them)");
  }
  if (args["out-dir"] !== undefined && args.issuer === undefined) {
    throw new UsageError("--issuer URL is required with --out-dir: the URL that will serve the directory");
  }
  refuseCloudFrontOnlyOptions(args);
  if (args.cloudfront && args["out-dir"] !== undefined) {
    throw new UsageError("--cloudfront serves a bucket; give --bucket, not --out-dir");
  }
  if (args["endpoint-url"] !== undefined && args["endpoint-url"].trim() === "") {
    throw new UsageError("--endpoint-url is empty; give the endpoint's URL, or leave it out for AWS's");
  }
  const aws = await awsSettingsFromArgs(args);
  const { parseDuration } = await import("@irsa-anywhere/publisher");
  const common = keyHandlingFromArgs(args, keys, parseDuration);
  const outDir = args["out-dir"];
  if (outDir !== undefined) return { ...common, outDir, issuer: args.issuer as string };
  return {
    ...common,
    bucket: args.bucket as string,
    issuer: args.issuer,
    prefix: args.prefix,
    region: args.region,
    endpointUrl: args["endpoint-url"],
    externalIssuer: args["external-issuer"],
    audiences: args.audience === undefined ? undefined : [args.audience].flat(),
    publicReadPolicy: args["public-read-policy"],
    publicReadScope: args["public-read-scope"],
    cloudFront: args.cloudfront ? cloudFrontOptionsFromArgs(args) : undefined,
    oidcProvider: args["oidc-provider"],
    clusterName: args.cluster,
    aws,
  };
}

/**
 * What every publish takes from the command line besides where it goes: the keys' retention, the
 * empty-kid twin and --dry-run. The publisher's parseDuration comes from the caller, which loads
 * the publisher its own way.
 */
export function keyHandlingFromArgs(
  args: Pick<PublishTargetArgs, "retain" | "empty-kid" | "dry-run">,
  keys: readonly PublicSigningKey[],
  parseDuration: (text: string) => number,
) {
  return {
    keys,
    retainMs: args.retain === undefined ? undefined : parseDuration(args.retain),
    emptyKidTwin: args["empty-kid"],
    dryRun: args["dry-run"],
  };
}

/**
 * The waits for the distribution to deploy and its invalidations to complete end within
 * --timeout, leaving the rest of the run (documents, IAM, the read-back) a minute of it.
 */
function cloudFrontOptionsFromArgs(args: PublishTargetArgs): CloudFrontOptions {
  const timeoutMs = args.timeoutMs ?? 5 * 60_000;
  return {
    domain: args.domain,
    certificateArn: args["certificate-arn"],
    priceClass: args["price-class"],
    wait: args.wait,
    waitTimeoutMs: timeoutMs > 120_000 ? timeoutMs - 60_000 : Math.floor(timeoutMs / 2),
    pollIntervalMs: Math.min(15_000, Math.max(1_000, Math.floor(timeoutMs / 20))),
    onProgress: note,
  };
}

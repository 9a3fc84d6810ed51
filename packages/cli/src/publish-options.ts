import type { PublicSigningKey } from "@irsa-anywhere/keys";
import type { PublicReadScope, PublishOptions } from "@irsa-anywhere/publisher";
import type { Argv } from "yargs";
import { type AwsArgs, awsSettingsFromArgs, profileOption } from "./aws-options.js";
import { EMPTY_KID_OPTION } from "./empty-kid-option.js";
import type { KeySourceArgs } from "./key-sources.js";
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

/** Where and how to publish: shared by `publish` and `rotate`. */
export function publishTargetOptions<T>(yargs: Argv<T>) {
  return profileOption(yargs)
    .option("bucket", {
      type: "string",
      requiresArg: true,
      describe: "S3 bucket to publish to",
      group: "Where:",
    })
    .option("prefix", {
      type: "string",
      requiresArg: true,
      describe: "Object key prefix (several clusters can share a bucket)",
      group: "Where:",
    })
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
    .option("region", {
      type: "string",
      requiresArg: true,
      describe: "The bucket's region (default AWS_REGION or the profile's)",
      group: "AWS:",
    })
    .option("endpoint-url", {
      type: "string",
      requiresArg: true,
      describe: "S3 endpoint for S3-compatible stores and local tests",
      group: "AWS:",
    })
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
  if (args["endpoint-url"] !== undefined && args["endpoint-url"].trim() === "") {
    throw new UsageError("--endpoint-url is empty; give the endpoint's URL, or leave it out for AWS's");
  }
  const aws = await awsSettingsFromArgs(args);
  const { parseDuration } = await import("@irsa-anywhere/publisher");
  const common = {
    keys,
    retainMs: args.retain === undefined ? undefined : parseDuration(args.retain),
    emptyKidTwin: args["empty-kid"],
    dryRun: args["dry-run"],
  };
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
    oidcProvider: args["oidc-provider"],
    clusterName: args.cluster,
    aws,
  };
}

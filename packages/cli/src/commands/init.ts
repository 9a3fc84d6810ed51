import { join } from "node:path";
import type { IssuerConfigEdit } from "@irsa-anywhere/discovery";
import { INPUT_LIMITS, readInput } from "@irsa-anywhere/errors";
import { SIGNING_KEY_TYPES, type SigningKeyType } from "@irsa-anywhere/keys";
import type { PreparedIssuer } from "@irsa-anywhere/publisher";
import { type AwsArgs, awsSettingsFromArgs, profileOption } from "../aws-options.js";
import { withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import {
  describeBucketPolicy,
  describeDistribution,
  distributionLogLines,
  reportWarnings,
} from "../distribution-report.js";
import { emit } from "../emit.js";
import { CliError } from "../errors.js";
import { jsonOptions } from "../json-output.js";
import { type LogFormat, logEvent } from "../log.js";
import { makeKeyDirectory, writeNewFiles } from "../new-files.js";
import {
  BUCKET_REGION_OPTION,
  CERTIFICATE_ARN_OPTION,
  DOMAIN_OPTION,
  ENDPOINT_URL_OPTION,
  PREFIX_OPTION,
  PRICE_CLASS_OPTION,
  refuseCloudFrontOnlyOptions,
} from "../publish-options.js";
import { paint } from "../terminal.js";
import { UsageError } from "../usage-error.js";

export interface InitArgs extends AwsArgs {
  bucket: string;
  prefix?: string | undefined;
  "endpoint-url"?: string | undefined;
  cloudfront: boolean;
  domain?: string | undefined;
  "certificate-arn"?: string | undefined;
  "price-class"?: string | undefined;
  "cluster-spec"?: string | undefined;
  "kubeadm-config"?: string | undefined;
  "key-dir"?: string | undefined;
  "key-type": SigningKeyType;
  "dry-run": boolean;
  json: boolean;
  "log-format": LogFormat;
}

/** An issuer of the right shape, for checking a file's structure before the real one is known. */
const PLACEHOLDER_ISSUER = "https://issuer.invalid";

export const initCommand = defineCommand({
  command: "init",
  describe:
    "Before the cluster: decide its issuer, create the bucket, and write the issuer into the cluster spec or kubeadm config",
  builder: (y) =>
    jsonOptions(profileOption(withExitCodes(y)), "Print the result as one JSON object")
      .option("bucket", {
        type: "string",
        demandOption: true,
        requiresArg: true,
        describe: "S3 bucket that will serve the issuer (created if missing)",
        group: "Where:",
      })
      .option("prefix", PREFIX_OPTION)
      .option("cloudfront", {
        type: "boolean",
        default: false,
        describe:
          "Serve the issuer through CloudFront from a private bucket (Block Public Access all on): the distribution is found or created now (not waited for; publish waits)",
        group: "CloudFront:",
      })
      .option("domain", DOMAIN_OPTION)
      .option("certificate-arn", CERTIFICATE_ARN_OPTION)
      .option("price-class", PRICE_CLASS_OPTION)
      .option("region", BUCKET_REGION_OPTION)
      .option("endpoint-url", ENDPOINT_URL_OPTION)
      .option("cluster-spec", {
        type: "string",
        requiresArg: true,
        conflicts: "kubeadm-config",
        describe: "EKS Anywhere cluster spec: set spec.podIamConfig.serviceAccountIssuer in it",
        group: "Cluster:",
      })
      .option("kubeadm-config", {
        type: "string",
        requiresArg: true,
        describe:
          "kubeadm config (ClusterConfiguration v1beta3 or v1beta4): set the API server's service-account-issuer and service-account-jwks-uri",
        group: "Cluster:",
      })
      .option("key-dir", {
        type: "string",
        requiresArg: true,
        describe:
          "With --kubeadm-config: generate the signing key pair into DIR (sa.key 0600, sa.pub), kept if already there",
        group: "Cluster:",
      })
      .option("key-type", {
        choices: SIGNING_KEY_TYPES,
        default: "rsa-2048" as const,
        describe: "The type of a key pair generated with --key-dir",
        group: "Cluster:",
      })
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "Show what would be created or written; touch nothing",
      })
      .example(
        "$0 init --bucket my-oidc --prefix prod --region us-west-2 --cluster-spec prod.yaml",
        "Before eksctl anywhere create cluster -f prod.yaml",
      )
      .example(
        "$0 init --bucket my-private-oidc --prefix prod --region us-west-2 --cloudfront --cluster-spec prod.yaml",
        "The same behind CloudFront: a private bucket, and the distribution's https://dXXXX.cloudfront.net/prod as the issuer",
      )
      .example(
        "$0 init --bucket my-oidc --prefix prod --kubeadm-config kubeadm.yaml --key-dir pki/",
        "Before kubeadm init: the issuer flags, and the key pair to copy to /etc/kubernetes/pki",
      ),
  handler: (args) => runInit(args),
});

/** What `init` did to the cluster's configuration file. */
interface ConfigOutcome {
  file: string;
  kind: IssuerConfigEdit["kind"];
  apiVersion: string;
  action: "update" | "unchanged";
  written: boolean;
}

/** What `init` did with `--key-dir`. */
interface KeyOutcome {
  dir: string;
  action: "create" | "unchanged";
  written: boolean;
  /** The new key's kid; `undefined` for a pair that was already there, or in a dry run. */
  kid?: string | undefined;
  /** Where each file goes on every control-plane node. */
  install: Record<string, string>;
}

interface InitResult extends PreparedIssuer {
  config?: ConfigOutcome;
  keys?: KeyOutcome;
}

/**
 * Decides the issuer and makes what serves it, then writes it into the cluster's configuration.
 * Everything that can be refused on the user's input (the options, the file and its shape, the
 * key directory) is checked before the first AWS call, so that a refusal leaves no bucket and no
 * file changed.
 */
export async function runInit(args: InitArgs): Promise<void> {
  refuseCloudFrontOnlyOptions(args);
  if (args["key-dir"] !== undefined && args["kubeadm-config"] === undefined) {
    throw new UsageError(
      "--key-dir generates the key pair for kubeadm; add --kubeadm-config (EKS Anywhere makes its own key)",
    );
  }
  if (args["endpoint-url"] !== undefined && args["endpoint-url"].trim() === "") {
    throw new UsageError("--endpoint-url is empty; give the endpoint's URL, or leave it out for AWS's");
  }
  const aws = await awsSettingsFromArgs(args);
  const config = await readConfig(args);
  const keyDir = args["key-dir"] === undefined ? undefined : await keyDirState(args["key-dir"]);

  const { prepareIssuer } = await import("@irsa-anywhere/publisher");
  const prepared = await prepareIssuer({
    bucket: args.bucket,
    prefix: args.prefix,
    region: args.region,
    endpointUrl: args["endpoint-url"],
    aws,
    dryRun: args["dry-run"],
    ...(args.cloudfront
      ? {
          cloudFront: {
            domain: args.domain,
            certificateArn: args["certificate-arn"],
            priceClass: args["price-class"],
          },
        }
      : {}),
  });
  const result: InitResult = { ...prepared };
  if (keyDir !== undefined && config?.keyFiles) result.keys = await writeKeys(keyDir, config.keyFiles, args);
  if (config !== undefined) result.config = await writeConfig(config, prepared, args["dry-run"]);
  report(result, args);
}

/** A configuration file, read and checked against a placeholder issuer. */
interface ReadConfig {
  file: string;
  what: string;
  text: string;
  mode: number;
  edit: (issuer: string, jwksUri: string) => Promise<IssuerConfigEdit>;
  /** kubeadm: where kube-apiserver reads the key pair. */
  keyFiles: IssuerConfigEdit["keyFiles"];
}

async function readConfig(args: InitArgs): Promise<ReadConfig | undefined> {
  const file = args["cluster-spec"] ?? args["kubeadm-config"];
  if (file === undefined) return undefined;
  const what = args["cluster-spec"] === undefined ? "--kubeadm-config" : "--cluster-spec";
  const text = await readInput(file, { maxBytes: INPUT_LIMITS.manifest, what });
  const { jwksUriOf, setClusterSpecIssuer, setKubeadmIssuer } = await import("@irsa-anywhere/discovery");
  const edit =
    args["cluster-spec"] === undefined
      ? (issuer: string, jwksUri: string) => setKubeadmIssuer(text, { issuer, jwksUri }, file)
      : (issuer: string) => setClusterSpecIssuer(text, issuer, file);
  // The file's shape is refused now, before the bucket is made; the real issuer differs only in
  // the text of one scalar.
  const { keyFiles } = await edit(PLACEHOLDER_ISSUER, jwksUriOf(PLACEHOLDER_ISSUER));
  const { stat } = await import("node:fs/promises");
  const mode = (await stat(file)).mode & 0o7777;
  return { file, what, text, mode, edit, keyFiles };
}

async function writeConfig(
  config: ReadConfig,
  prepared: PreparedIssuer,
  dryRun: boolean,
): Promise<ConfigOutcome> {
  const edit = await config.edit(prepared.issuer, prepared.jwksUri);
  const outcome = {
    file: config.file,
    kind: edit.kind,
    apiVersion: edit.apiVersion,
    action: edit.changed ? ("update" as const) : ("unchanged" as const),
    written: edit.changed && !dryRun,
  };
  if (outcome.written) {
    // The edit was made on the text read before the AWS calls: if the file changed since (an
    // editor, another init), writing would lose that change.
    const now = await readInput(config.file, { maxBytes: INPUT_LIMITS.manifest, what: config.what });
    if (now !== config.text) {
      throw new CliError(
        "ERR_INPUT_CHANGED",
        `${config.file} changed while init ran, so it was left as it is; run init again to add the issuer to the file as it is now`,
      );
    }
    await emit(edit.text, config.file, { mode: config.mode });
  }
  return outcome;
}

/** `present`: sa.key and sa.pub are both there (kept as they are); `absent`: neither is. */
async function keyDirState(dir: string): Promise<{ dir: string; present: boolean }> {
  const { access } = await import("node:fs/promises");
  const exists = (name: string) =>
    access(join(dir, name)).then(
      () => true,
      () => false,
    );
  const [key, pub] = await Promise.all([exists("sa.key"), exists("sa.pub")]);
  if (key !== pub) {
    const [has, lacks] = key ? ["sa.key", "sa.pub"] : ["sa.pub", "sa.key"];
    throw new UsageError(
      `${dir} has ${has} but no ${lacks}; move ${has} away to generate a new pair, or put its ${lacks} beside it`,
    );
  }
  return { dir, present: key };
}

async function writeKeys(
  state: { dir: string; present: boolean },
  keyFiles: NonNullable<IssuerConfigEdit["keyFiles"]>,
  args: InitArgs,
): Promise<KeyOutcome> {
  const install = {
    [join(state.dir, "sa.key")]: keyFiles.privateKey,
    [join(state.dir, "sa.pub")]: keyFiles.publicKey,
  };
  if (state.present) return { dir: state.dir, action: "unchanged", written: false, install };
  if (args["dry-run"]) return { dir: state.dir, action: "create", written: false, install };
  const { generateSigningKey } = await import("@irsa-anywhere/keys");
  await makeKeyDirectory(state.dir);
  const pair = generateSigningKey(args["key-type"]);
  await writeNewFiles([
    [join(state.dir, "sa.key"), pair.privateKeyPem, 0o600],
    [join(state.dir, "sa.pub"), pair.publicKeyPem, 0o644],
  ]);
  return { dir: state.dir, action: "create", written: true, kid: pair.key.kid, install };
}

function report(result: InitResult, args: InitArgs): void {
  const format = args["log-format"];
  const { bucket, config, keys } = result;
  logEvent(format, {
    action: "bucket",
    bucket: bucket.bucket,
    region: bucket.region,
    outcome: bucket.action,
    written: bucket.written,
    message: bucket.reason,
  });
  for (const line of distributionLogLines(result.bucketPolicy, result.distribution)) logEvent(format, line);
  reportWarnings(format, result.warnings);
  if (config)
    logEvent(format, {
      action: "cluster-config",
      file: config.file,
      outcome: config.action,
      written: config.written,
      message: `issuer in ${config.kind}`,
    });
  if (keys)
    logEvent(format, {
      action: "signing-key",
      dir: keys.dir,
      outcome: keys.action,
      written: keys.written,
      ...(keys.kid ? { kid: keys.kid } : {}),
      message: "service-account signing key pair",
    });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (format !== "text") return;
  process.stdout.write(describeInit(result, args));
}

function describeInit(result: InitResult, args: InitArgs): string {
  const out = process.stdout;
  const verb = (action: string) => {
    if (action === "unchanged") return paint(out, 2, "unchanged".padEnd(14));
    const word = result.dryRun ? `would ${action}` : action === "create" ? "created" : "updated";
    return paint(out, 32, word.padEnd(14));
  };
  const { bucket, config, keys } = result;
  const lines: string[] = [];
  if (result.dryRun) lines.push("Dry run: nothing was created or written.");
  lines.push(`${verb(bucket.action)} bucket ${bucket.bucket} in ${bucket.region}  (${bucket.reason})`);
  if (result.distribution)
    lines.push(describeDistribution(verb(result.distribution.action), result.distribution));
  if (result.bucketPolicy)
    lines.push(describeBucketPolicy(verb(result.bucketPolicy.action), result.bucketPolicy));
  if (keys) {
    lines.push(
      `${verb(keys.action)} ${Object.keys(keys.install).join(", ")}${keys.kid ? `  (kid ${keys.kid})` : ""}`,
    );
  }
  if (config) {
    const where =
      config.kind === "Cluster"
        ? "spec.podIamConfig.serviceAccountIssuer"
        : "apiServer.extraArgs service-account-issuer and service-account-jwks-uri";
    lines.push(`${verb(config.action)} ${config.file}: ${where}`);
  }
  lines.push("", `issuer: ${result.issuer}`);
  if (!config || config.kind === "ClusterConfiguration") lines.push(`jwks uri: ${result.jwksUri}`);
  if (!config)
    lines.push(`EKS Anywhere cluster spec: spec.podIamConfig.serviceAccountIssuer: ${result.issuer}`);
  if (keys) {
    lines.push("Before kubeadm init, on every control-plane node:");
    for (const [from, to] of Object.entries(keys.install)) {
      lines.push(
        `  ${from} -> ${to}${from.endsWith("sa.key") ? " (mode 0600; the API server signs with it)" : ""}`,
      );
    }
  }
  const publish = [
    "irsa-anywhere publish",
    args["kubeadm-config"] === undefined ? "--cluster NAME" : "--key /etc/kubernetes/pki/sa.pub",
    `--bucket ${bucket.bucket}`,
    ...(args.prefix === undefined ? [] : [`--prefix ${args.prefix}`]),
    `--region ${bucket.region}`,
    ...(result.mode === "s3" ? ["--public-read-policy"] : ["--cloudfront"]),
    ...(args.domain === undefined ? [] : [`--domain ${args.domain}`]),
    ...(args["certificate-arn"] === undefined ? [] : [`--certificate-arn ${args["certificate-arn"]}`]),
  ];
  lines.push(`Once the cluster is up: ${publish.join(" ")}`);
  if (result.distribution && result.distribution.status !== "Deployed" && !result.dryRun) {
    lines.push("(publish waits for the distribution to deploy, which takes CloudFront a few minutes)");
  }
  return `${lines.join("\n")}\n`;
}

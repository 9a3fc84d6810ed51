import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { runKeys } from "./commands/keys.js";
import { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";
import { keySourceOptions } from "./key-sources.js";
import { paint } from "./terminal.js";

// On Node 20 the AWS SDK prints nine lines on every run saying that its 2027 releases will need
// Node 22: news for whoever upgrades this tool's dependencies, not for each run of a user's job.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** Set by the bundler (scripts/bundle-cli.mjs) from packages/cli/package.json. */
declare const IRSA_ANYWHERE_VERSION: string;
const version = IRSA_ANYWHERE_VERSION;

const exitCodes = `Exit codes: 0 success, 1 failure at run time (network, permissions), 2 bad input or usage.`;

/** What every command's help ends with. */
function withExitCodes<T>(y: Argv<T>) {
  return y.epilogue(exitCodes);
}

function emptyKidOption<T>(y: Argv<T>) {
  return y.option("empty-kid", {
    type: "boolean",
    default: true,
    describe: 'Add the current key with kid "" for tokens from Kubernetes < 1.16',
  });
}

function failWith(message: string, code: number): never {
  process.stderr.write(`${paint(process.stderr, 31, "irsa-anywhere:")} ${message}\n`);
  process.exit(code);
}

function usageFailure(message: string): never {
  const command = hideBin(process.argv).find((word) => !word.startsWith("-"));
  failWith(`${message}; see irsa-anywhere ${command ? `${command} ` : ""}--help`, EXIT_USAGE);
}

/** Errors of our packages carry `isInputError`; anything else is a bug and shows in full. */
function report(error: unknown): never {
  // yargs throws its own validation errors from the async parse path instead of calling fail().
  if (error instanceof Error && error.name === "YError") usageFailure(error.message);
  if (error instanceof Error && "isInputError" in error && typeof error.isInputError === "boolean") {
    failWith(error.message, error.isInputError ? EXIT_USAGE : EXIT_FAILURE);
  }
  process.stderr.write(`irsa-anywhere: unexpected error, please report it:\n`);
  console.error(error);
  process.exit(EXIT_FAILURE);
}

const cli = yargs(hideBin(process.argv))
  .scriptName("irsa-anywhere")
  .usage("$0 <command> [options]\n\nIAM Roles for Service Accounts on clusters that AWS does not host.")
  .command(
    "keys",
    "Print the JWKS (keys.json) for the cluster's service-account signing key",
    (y) =>
      withExitCodes(emptyKidOption(keySourceOptions(y)))
        .option("out", {
          type: "string",
          requiresArg: true,
          describe: "Write to FILE (atomically) instead of stdout",
        })
        .example("$0 keys --key sa.pub > keys.json", "JWKS of a public key file")
        .example(
          "$0 keys --cluster prod --kubeconfig prod.kubeconfig",
          "JWKS of the prod-sa secret in eksa-system",
        )
        .example(
          "kubectl get secret prod-sa -n eksa-system -o json | $0 keys --secret-file -",
          "From kubectl's output",
        ),
    // Static, not lazy like the others: keys is the quick command scripts run, and each lazily
    // loaded chunk costs a cold start a few milliseconds (bench/cold-start.mjs).
    (args) => runKeys(args),
  )
  .command(
    "discovery",
    "Print the OIDC discovery document (.well-known/openid-configuration) for an issuer",
    (y) =>
      withExitCodes(keySourceOptions(y))
        .option("issuer", {
          type: "string",
          demandOption: true,
          requiresArg: true,
          describe: "Issuer URL, https:// with no trailing slash",
        })
        .option("jwks-uri", {
          type: "string",
          requiresArg: true,
          describe: "Where the JWKS is served (default <issuer>/keys.json)",
        })
        .option("out", {
          type: "string",
          requiresArg: true,
          describe: "Write to FILE (atomically) instead of stdout",
        })
        .example(
          "$0 discovery --issuer https://oidc.example.com/prod --key sa.pub",
          "Signing algorithms taken from the key",
        ),
    async (args) => (await import("./commands/discovery.js")).runDiscovery(args),
  )
  .command(
    "publish",
    "Publish keys.json and the discovery document to S3 (and register the IAM OIDC provider) or a directory",
    (y) =>
      withExitCodes(emptyKidOption(keySourceOptions(y)))
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
          describe: "Issuer URL (default with --bucket: https://BUCKET.s3.REGION.amazonaws.com[/PREFIX])",
          group: "Where:",
        })
        .option("external-issuer", {
          type: "boolean",
          default: false,
          describe: "The issuer is served from the bucket by something else, such as CloudFront",
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
          describe: "Audience of the IAM OIDC provider, repeatable (default sts.amazonaws.com)",
          group: "AWS:",
        })
        .option("public-read-policy", {
          type: "boolean",
          default: false,
          describe: "Add a bucket policy statement making exactly the two documents public",
          group: "AWS:",
        })
        .option("oidc-provider", {
          type: "boolean",
          default: true,
          describe: "Register the IAM OIDC provider (--no-oidc-provider to skip)",
          group: "AWS:",
        })
        .option("dry-run", {
          type: "boolean",
          default: false,
          describe: "Show what would be created, written or left alone; touch nothing",
        })
        .option("json", { type: "boolean", default: false, describe: "Print the result as one JSON object" })
        .example(
          "$0 publish --cluster prod --bucket my-oidc --prefix prod --region us-west-2 --public-read-policy",
          "Right after eksctl anywhere create cluster",
        )
        .example(
          "$0 publish --key sa.pub --issuer https://oidc.example.com/prod --out-dir site",
          "Writes site/prod/keys.json and site/prod/.well-known/openid-configuration",
        ),
    async (args) => (await import("./commands/publish.js")).runPublish(args),
  )
  // [doctor and trust-policy commands are registered here]
  // [serve command is registered here]
  // [keygen and rotate commands are registered here]
  .demandCommand(1, "say which command to run")
  .recommendCommands()
  .strict()
  .version(version)
  .alias("h", "help")
  .epilogue(exitCodes)
  .wrap(null)
  .fail((message, error) => {
    if (error) report(error);
    const command = hideBin(process.argv).find((word) => !word.startsWith("-"));
    failWith(
      `${message ?? "bad usage"}; see irsa-anywhere ${command ? `${command} ` : ""}--help`,
      EXIT_USAGE,
    );
  });

try {
  await cli.parseAsync();
} catch (error) {
  report(error);
}

import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { PROFILE_OPTION } from "./aws-options.js";
import { runKeys } from "./commands/keys.js";
import { DEFAULT_TIMEOUT, startDeadline } from "./deadline.js";
import { EXIT_USAGE } from "./exit-codes.js";
import { failWith, reportError, reportFailuresAsJson } from "./failure.js";
import { keySourceOptions } from "./key-sources.js";
import { publishTargetOptions } from "./publish-options.js";

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

/** The issuer every command but keys and publish requires; `describe` says what it means there. */
function issuerOption(describe: string, group?: string) {
  return {
    type: "string",
    demandOption: true,
    requiresArg: true,
    describe,
    ...(group ? { group } : {}),
  } as const;
}

function emptyKidOption<T>(y: Argv<T>) {
  return y.option("empty-kid", {
    type: "boolean",
    default: true,
    describe: 'Add the current key with kid "" for tokens from Kubernetes < 1.16',
  });
}

/** How `--service-account` may be written (parseServiceAccount reads them all). */
const serviceAccountForms = "NAMESPACE/NAME, NAMESPACE:NAME or system:serviceaccount:NAMESPACE:NAME";

/** The phases of `rotate`, each a command of its own with its own help. */
const rotatePhases = [
  {
    name: "status",
    describe: "Say where the rotation is, and what to do next",
    example: "--cluster prod --bucket my-oidc --prefix prod",
    exampleNote: "Where am I?",
  },
  {
    name: "prepare",
    describe: "Phase 1: publish the next key ahead of the API server signing with it",
    example: "--cluster prod --next-key next/sa.pub --bucket my-oidc --prefix prod",
    exampleNote: "Then wait 5 minutes and switch the API server",
  },
  {
    name: "confirm",
    describe: "Phase 2: check that the cluster signs with the prepared key",
    example: "--cluster prod --bucket my-oidc --prefix prod",
    exampleNote: "After switching the API server",
  },
  {
    name: "prune",
    describe: "Phase 3: remove old keys whose retention has passed",
    example: "--cluster prod --bucket my-oidc --prefix prod",
    exampleNote: "A day after the old key left the API server",
  },
  {
    name: "withdraw",
    describe: "Give up a prepared rotation (its key retires)",
    example: "--cluster prod --bucket my-oidc --prefix prod",
    exampleNote: "The prepared key will not be used",
  },
] as const;

/**
 * `--json`, and `-o json` / `--output json` for it, as users of aws and kubectl write it. Any other
 * `-o` is refused: there is one data format.
 */
function jsonOptions<T>(y: Argv<T>, describe: string) {
  return y
    .option("json", { type: "boolean", default: false, describe })
    .option("output", {
      alias: "o",
      type: "string",
      requiresArg: true,
      describe: "json: the same as --json, as aws and kubectl take it",
    })
    .middleware((args) => {
      if (args.output === undefined) return;
      if (args.output !== "json") {
        usageFailure(`-o/--output takes only json (the same as --json), not ${JSON.stringify(args.output)}`);
      }
      (args as { json: boolean }).json = true;
    });
}

function usageFailure(message: string): never {
  const words = hideBin(process.argv).filter((argument) => !argument.startsWith("-"));
  const word = words[0];
  const known = word !== undefined && knownCommands.includes(word);
  // A rotate phase has a help page of its own: point at it.
  const phase = word === "rotate" && rotatePhases.some((p) => p.name === words[1]) ? `${words[1]} ` : "";
  // Some yargs messages span lines ("Invalid values:\n  Argument: ..."): one line, always.
  let line = message.replace(/:?\s*\n\s*/g, ": ").replace(/:\s*:/g, ":");
  if (word !== undefined && !known && /^Did you mean|^Unknown argument/.test(line)) {
    line = `unknown command ${word}${line.startsWith("Did you mean") ? `; d${line.slice(1)}` : ""}`;
  }
  // yargs names an unknown --next-key twice, as itself and as its camelCase alias nextKey.
  line = line.replace(/^Unknown arguments?: (.*)$/, (_all, list: string) => {
    const names = list.split(", ").filter((name) => !/[A-Z]/.test(name));
    return `Unknown argument${names.length === 1 ? "" : "s"}: ${names.join(", ")}`;
  });
  failWith(`${line}; see irsa-anywhere ${known ? `${word} ${phase}` : ""}--help`, EXIT_USAGE);
}

/** The top-level commands, from yargs's own registry, taken before parsing enters one of them. */
let knownCommands: string[] = [];

/**
 * yargs gathers a repeated option into an array. Only options declared with `nargs: 1` (`--key`,
 * `--service-account`, ...) are meant to repeat; for any other, two values are a mistake to name,
 * not an array to pass on to code that expects one.
 */
function refuseRepeatedOptions(args: Record<string, unknown>, parser: unknown): void {
  const { narg } = (parser as { getOptions(): { narg: Record<string, number> } }).getOptions();
  for (const [name, value] of Object.entries(args)) {
    // "_" and "--" hold words, not options; camelCase names are yargs's aliases of the kebab-case
    // ones. `requiresArg` options are in narg too, as NaN: yargs's own marker, not a repeat.
    if (name === "_" || name === "--" || /[A-Z]/.test(name) || !Array.isArray(value) || narg[name] === 1) {
      continue;
    }
    usageFailure(`--${name} was given ${value.length} times; give it once`);
  }
}

/** yargs reads `--flag=yes` (or any word) on a boolean as false, silently: a mistake to name. */
function refuseBooleanWords(_args: unknown, parser: unknown): void {
  const booleans = new Set((parser as { getOptions(): { boolean: string[] } }).getOptions().boolean);
  for (const word of hideBin(process.argv)) {
    const match = /^--(?:no-)?([^=]+)=(.*)$/.exec(word);
    if (match && booleans.has(match[1] as string) && match[2] !== "true" && match[2] !== "false") {
      usageFailure(`--${match[1]} is a switch: give it alone, or =true or =false, not "${match[2]}"`);
    }
  }
}

/** --timeout: a deadline for the whole run (serve runs until stopped), and each request's limit. */
async function applyTimeout(args: { _: unknown[]; timeout: string; timeoutMs?: number }): Promise<void> {
  const { parseDuration } = await import("@irsa-anywhere/publisher");
  const ms = parseDuration(args.timeout);
  if (!(ms >= 1) || !Number.isFinite(ms))
    usageFailure(`--timeout ${args.timeout} is too short; give one like 90s or 5m`);
  args.timeoutMs = ms;
  if (args._[0] !== "serve") startDeadline(ms, args.timeout);
}

function report(error: unknown): never {
  // yargs throws its own validation errors from the async parse path instead of calling fail().
  if (error instanceof Error && error.name === "YError") usageFailure(error.message);
  reportError(error);
}

const cli = yargs(hideBin(process.argv))
  .scriptName("irsa-anywhere")
  .option("log-format", {
    choices: ["text", "json"] as const,
    default: "text" as const,
    global: true,
    describe: "text for people; json: one JSON line per action on stderr, for a job's logs",
  })
  .middleware((args) => {
    if (args["log-format"] === "json") reportFailuresAsJson();
  }, true)
  .option("timeout", {
    type: "string",
    default: DEFAULT_TIMEOUT,
    requiresArg: true,
    global: true,
    describe:
      "The longest the command may take, e.g. 90s or 5m; each AWS or Kubernetes request also waits at most 30s (not serve, which runs until stopped)",
  })
  .middleware(refuseRepeatedOptions as never, true)
  .middleware(refuseBooleanWords as never, true)
  .middleware(applyTimeout as never)
  .usage("$0 <command> [options]\n\nIAM Roles for Service Accounts on clusters that AWS does not host.")
  .command(
    "keys",
    "Print the JWKS (keys.json) for the cluster's service-account signing key",
    (y) =>
      withExitCodes(emptyKidOption(keySourceOptions(y)))
        .option("out", {
          type: "string",
          requiresArg: true,
          describe: "Write to FILE (atomically; a symlink is written through) instead of stdout",
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
        .option("issuer", issuerOption("Issuer URL, https:// with no trailing slash"))
        .option("jwks-uri", {
          type: "string",
          requiresArg: true,
          describe: "Where the JWKS is served (default <issuer>/keys.json)",
        })
        .option("out", {
          type: "string",
          requiresArg: true,
          describe: "Write to FILE (atomically; a symlink is written through) instead of stdout",
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
      jsonOptions(
        publishTargetOptions(withExitCodes(keySourceOptions(y))),
        "Print the result as one JSON object",
      )
        .example(
          "$0 publish --cluster prod --bucket my-oidc --prefix prod --region us-west-2 --public-read-policy",
          "Right after eksctl anywhere create cluster",
        )
        .example(
          "$0 publish --cluster-jwks --bucket my-oidc --prefix prod",
          "In the cluster, as the scheduled job: no secret needed",
        )
        .example(
          "$0 publish --key sa.pub --issuer https://oidc.example.com/prod --out-dir site",
          "Writes site/prod/keys.json and site/prod/.well-known/openid-configuration",
        ),
    async (args) => (await import("./commands/publish.js")).runPublish(args),
  )
  .command(
    "doctor",
    "Check every link of the IRSA chain (issuer documents, keys, IAM provider, trust policy, cluster) and explain each broken one",
    (y) =>
      jsonOptions(keySourceOptions(y), "Print every check as JSON")
        .option("issuer", issuerOption("Issuer URL, exactly as the cluster's tokens carry it"))
        .option("service-account", {
          type: "string",
          requiresArg: true,
          describe: `The service account whose pods assume the role: ${serviceAccountForms}`,
          group: "What to check:",
        })
        .option("role-arn", {
          type: "string",
          requiresArg: true,
          describe: "The role to assume (default: the service account's eks.amazonaws.com/role-arn)",
          group: "What to check:",
        })
        .option("audience", {
          type: "string",
          requiresArg: true,
          describe:
            "The tokens' audience (default: the service account's annotation, else sts.amazonaws.com)",
          group: "What to check:",
        })
        .option("smoke-test", {
          type: "boolean",
          default: false,
          describe:
            "Sign a token as kube-apiserver would (needs the private key: --cluster, or --key with it), verify it as STS does, and call AssumeRoleWithWebIdentity; the token is never shown",
          group: "What to check:",
        })
        .option("ca-file", {
          type: "string",
          requiresArg: true,
          describe:
            "Also trust this CA (PEM) for the issuer, e.g. a private one in a test; STS trusts only public CAs",
          group: "What to check:",
        })
        .option("aws", {
          type: "boolean",
          default: true,
          describe: "Check IAM and call STS (--no-aws: the documents and the cluster only)",
          group: "AWS:",
        })
        .option("region", {
          type: "string",
          requiresArg: true,
          describe: "STS region (default AWS_REGION, else the profile's, else us-east-1)",
          group: "AWS:",
        })
        .option("profile", PROFILE_OPTION)
        .example(
          "$0 doctor --issuer https://my-oidc.s3.us-west-2.amazonaws.com/prod --cluster prod --kubeconfig prod.kubeconfig --service-account payments/api",
          "Documents, keys, IAM, the role the service account names, and the cluster side",
        )
        .example(
          "$0 doctor --issuer https://oidc.example.com/prod --cluster prod --service-account payments/api --smoke-test",
          "Also prove it end to end with a token through STS",
        )
        .epilogue(
          "Each check prints PASS, WARN, FAIL or SKIP with its reason, and the fix below a warning or failure.\nExit codes: 0 nothing failed, 1 a check failed (or a run-time error), 2 bad input or usage.",
        ),
    async (args) => (await import("./commands/doctor.js")).runDoctor(args),
  )
  .command(
    "trust-policy",
    "Print the IAM trust policy that lets these service accounts assume a role (a new one, or --role's with them added)",
    (y) =>
      withExitCodes(y)
        .option("issuer", issuerOption("Issuer URL, exactly as the cluster's tokens carry it"))
        .option("service-account", {
          type: "string",
          nargs: 1,
          describe: `${serviceAccountForms}; repeatable`,
        })
        .option("namespace-wide", {
          type: "string",
          nargs: 1,
          describe:
            "Let in every service account of NAMESPACE (StringLike system:serviceaccount:NS:*), repeatable",
        })
        .option("audience", {
          type: "string",
          requiresArg: true,
          describe: "The tokens' audience (default sts.amazonaws.com)",
        })
        .option("account-id", {
          type: "string",
          requiresArg: true,
          describe: "The role's account (default: that of your AWS credentials, from STS GetCallerIdentity)",
        })
        .option("role", {
          type: "string",
          requiresArg: true,
          describe:
            "Name or ARN of an existing role: print its current trust policy (read with iam:GetRole) with the service accounts merged in, every other principal kept",
        })
        .option("region", {
          type: "string",
          requiresArg: true,
          describe: "Picks the partition when the account is given (cn-north-1: aws-cn)",
        })
        .option("profile", PROFILE_OPTION)
        .example(
          "$0 trust-policy --issuer https://oidc.example.com/prod --service-account payments/api > trust.json",
          "Then: aws iam create-role --role-name payments-api --assume-role-policy-document file://trust.json",
        )
        .example(
          "$0 trust-policy --role payments-api --issuer https://oidc.example.com/prod --service-account payments/api > trust.json",
          "Then: aws iam update-assume-role-policy --role-name payments-api --policy-document file://trust.json",
        ),
    async (args) => (await import("./commands/trust-policy.js")).runTrustPolicy(args),
  )
  .command(
    "serve",
    "Serve the discovery document and keys.json as the issuer itself, over HTTPS, until SIGTERM",
    (y) =>
      withExitCodes(emptyKidOption(keySourceOptions(y)))
        .option(
          "issuer",
          issuerOption(
            "Issuer URL, https:// with no trailing slash; its path is where the documents are served",
            "Serving:",
          ),
        )
        .option("dir", {
          type: "string",
          requiresArg: true,
          describe:
            "Serve what publish --out-dir wrote here, re-read when it changes; with a key source, keep the documents here so earlier keys survive restarts",
          group: "Serving:",
        })
        .option("listen", {
          type: "string",
          requiresArg: true,
          describe: "HOST:PORT, [IPv6]:PORT or :PORT (default :8443 with TLS, 127.0.0.1:8080 without)",
          group: "Serving:",
        })
        .option("tls-cert", {
          type: "string",
          requiresArg: true,
          describe: "Certificate (chain) PEM file; reloaded when it changes",
          group: "Serving:",
        })
        .option("tls-key", {
          type: "string",
          requiresArg: true,
          describe: "Private key PEM file of the certificate",
          group: "Serving:",
        })
        .option("plain-http", {
          type: "boolean",
          default: false,
          describe:
            "Allow plain HTTP on a non-loopback address, when a proxy or ingress in front terminates TLS",
          group: "Serving:",
        })
        .option("refresh-interval", {
          type: "string",
          default: "30s",
          requiresArg: true,
          describe:
            "How often the cluster's secret is read again (a rotated key is picked up): 30s, 5m, 1h30m; a bare number is seconds",
          group: "Serving:",
        })
        .option("shutdown-timeout", {
          type: "string",
          default: "10s",
          requiresArg: true,
          describe:
            "How long requests in flight get to finish after SIGTERM: 10s, 1m; a bare number is seconds",
          group: "Serving:",
        })
        .example(
          "$0 serve --cluster prod --issuer https://oidc.example.com/prod --tls-cert tls.crt --tls-key tls.key",
          "HTTPS on :8443; the prod-sa secret is read again every 30 s",
        )
        .example(
          "$0 serve --dir site --issuer https://oidc.example.com/prod --listen :8080 --plain-http",
          "What publish --out-dir site wrote, behind an ingress that terminates TLS",
        )
        .example(
          "$0 serve --key sa.pub --issuer https://oidc.example.com/prod",
          "Try it: http://127.0.0.1:8080/prod/keys.json",
        ),
    async (args) => (await import("./commands/serve.js")).runServe(args),
  )
  .command(
    "keygen",
    "Generate a new service-account signing key pair (for a rotation)",
    (y) =>
      jsonOptions(withExitCodes(y), "Print the kid and files as JSON")
        .option("type", {
          choices: ["rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384", "ec-p521"] as const,
          default: "rsa-2048" as const,
          describe: "Key type",
        })
        .option("out-dir", {
          type: "string",
          requiresArg: true,
          describe: "Write sa.key (mode 0600) and sa.pub into DIR",
        })
        .option("secret-manifest", {
          type: "string",
          requiresArg: true,
          describe:
            "Write a Secret manifest (mode 0600) shaped like the <cluster>-sa secret (also, or instead)",
        })
        .option("name", {
          type: "string",
          requiresArg: true,
          describe: "The secret's name, with --secret-manifest (default <cluster>-sa with --cluster)",
        })
        .option("namespace", {
          type: "string",
          default: "eksa-system",
          requiresArg: true,
          describe: "The secret's namespace (written, and read with --cluster)",
        })
        .option("keep-public-key", {
          type: "string",
          nargs: 1,
          describe:
            "PEM file (public key, certificate or private key): its public keys stay in the manifest's tls.crt beside the new one; repeatable",
          group: "Keep the previous key (with --secret-manifest):",
        })
        .option("cluster", {
          type: "string",
          requiresArg: true,
          describe:
            "Keep the key the <cluster>-sa secret signs with now (workload clusters: the management cluster's kubeconfig)",
          group: "Keep the previous key (with --secret-manifest):",
        })
        .option("secret-file", {
          type: "string",
          nargs: 1,
          describe: "Keep the key this secret (kubectl get secret -o json or yaml) signs with; repeatable",
          group: "Keep the previous key (with --secret-manifest):",
        })
        .option("kubeconfig", {
          type: "string",
          requiresArg: true,
          describe: "Kubeconfig file for --cluster (default: KUBECONFIG, ~/.kube/config, in-cluster)",
          group: "Keep the previous key (with --secret-manifest):",
        })
        .option("context", {
          type: "string",
          requiresArg: true,
          describe: "Kubeconfig context for --cluster (default: its current context)",
          group: "Keep the previous key (with --secret-manifest):",
        })
        .example("$0 keygen --out-dir next/", "next/sa.key and next/sa.pub; prints the new kid")
        .example(
          "$0 keygen --out-dir next/ --secret-manifest next/prod-sa.yaml --cluster prod --kubeconfig mgmt/mgmt-eks-a-cluster.kubeconfig",
          "A rotation on EKS Anywhere: the new pair, and prod-sa with the old public key kept in tls.crt",
        ),
    async (args) => (await import("./commands/keygen.js")).runKeygen(args),
  )
  .command(
    "rotate",
    "Rotate the signing key in three phases, safely: prepare, confirm, prune (and status)",
    (y) => {
      let rotate = withExitCodes(y);
      for (const phase of rotatePhases) {
        rotate = rotate.command(
          phase.name,
          phase.describe,
          (p) => {
            const options = jsonOptions(
              publishTargetOptions(withExitCodes(keySourceOptions(p))),
              "Print the phase's report as one JSON object",
            );
            const withNextKey =
              phase.name === "prepare"
                ? options.option("next-key", {
                    type: "string",
                    requiresArg: true,
                    describe: "The next key (public or private PEM), from irsa-anywhere keygen",
                  })
                : options;
            return withNextKey.example(`$0 rotate ${phase.name} ${phase.example}`, phase.exampleNote);
          },
          async (args) => (await import("./commands/rotate.js")).runRotate({ ...args, phase: phase.name }),
        );
      }
      return rotate
        .demandCommand(1, "say which phase: status, prepare, confirm, prune or withdraw")
        .example(
          "$0 rotate prepare --cluster prod --next-key next/sa.pub --bucket my-oidc --prefix prod",
          "Phase 1",
        )
        .example(
          "$0 rotate confirm --cluster prod --bucket my-oidc --prefix prod",
          "Phase 2, after switching the API server",
        )
        .example("$0 rotate prune --cluster prod --bucket my-oidc --prefix prod", "Phase 3, a day later");
    },
  )
  .demandCommand(1, "say which command to run")
  .recommendCommands()
  .strict()
  .version(version)
  // Every message of ours is English; so are yargs's own words around them, whatever LANG says.
  .locale("en")
  .alias("h", "help")
  .epilogue(exitCodes)
  .wrap(null)
  .fail((message, error) => {
    if (error) report(error);
    usageFailure(message ?? "bad usage");
  });

knownCommands = (
  cli as unknown as { getInternalMethods(): { getCommandInstance(): { getCommands(): string[] } } }
)
  .getInternalMethods()
  .getCommandInstance()
  .getCommands();
try {
  await cli.parseAsync();
} catch (error) {
  report(error);
}

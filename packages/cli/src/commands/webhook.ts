import type { ClusterObjects } from "@irsa-anywhere/kube";
import type {
  CertManagerChoice,
  WebhookCheck,
  WebhookInstallOptions,
  WebhookInstallPlan,
  WebhookObject,
} from "@irsa-anywhere/webhook";
import type { Argv } from "yargs";
import { withExitCodes } from "../command-help.js";
import { defineCommand, type GlobalArgs } from "../command-module.js";
import { emit } from "../emit.js";
import { EXIT_FAILURE } from "../exit-codes.js";
import { jsonOptions } from "../json-output.js";
import { type LogFormat, logEvent } from "../log.js";
import { statusMark } from "../terminal.js";
import { UsageError } from "../usage-error.js";

interface ClusterArgs {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace: string;
  json: boolean;
  "log-format": LogFormat;
  timeoutMs?: number | undefined;
}

interface InstallArgs extends ClusterArgs {
  image?: string | undefined;
  replicas: number;
  "token-audience"?: string | undefined;
  "token-expiration": number;
  region?: string | undefined;
  "annotation-prefix"?: string | undefined;
  "cert-manager": CertManagerChoice;
  "key-type": "ecdsa-p256" | "rsa-2048";
  "dry-run": boolean;
  manifests?: string | undefined;
}

interface UninstallArgs extends ClusterArgs {
  "dry-run": boolean;
}

const WHERE = "Where:";

/** --kubeconfig, --context and --namespace, and --json: what every webhook command takes. */
function clusterOptions(y: Argv<GlobalArgs>, json: string) {
  return jsonOptions(withExitCodes(y), json)
    .option("kubeconfig", {
      type: "string",
      requiresArg: true,
      describe: "Kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)",
      group: WHERE,
    })
    .option("context", {
      type: "string",
      requiresArg: true,
      describe: "Kubeconfig context (default: its current context)",
      group: WHERE,
    })
    .option("namespace", {
      type: "string",
      default: "irsa-anywhere",
      requiresArg: true,
      describe: "The webhook's namespace (never kube-system)",
      group: WHERE,
    });
}

/** The cluster the webhook commands (and `up`) apply to, as the webhook's field manager. */
export async function connectWebhookCluster(args: {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  timeoutMs?: number | undefined;
}): Promise<ClusterObjects> {
  const { connectClusterObjects } = await import("@irsa-anywhere/kube");
  const { WEBHOOK_FIELD_MANAGER } = await import("@irsa-anywhere/webhook");
  return connectClusterObjects({
    kubeconfig: args.kubeconfig,
    context: args.context,
    fieldManager: WEBHOOK_FIELD_MANAGER,
    timeoutMs: args.timeoutMs,
  });
}

const installCommand = defineCommand({
  command: "install",
  describe:
    "Install (or update) the pod identity webhook: hardened, 2 replicas, TLS from cert-manager or made here",
  builder: (y) =>
    clusterOptions(y, "Print the plan and its outcome as one JSON object")
      .option("image", {
        type: "string",
        requiresArg: true,
        describe: "The webhook image, pinned by a tag or digest (default: the release this version knows)",
        group: "The webhook:",
      })
      .option("replicas", {
        type: "number",
        default: 2,
        requiresArg: true,
        describe: "1 to 10",
        group: "The webhook:",
      })
      .option("token-audience", {
        type: "string",
        requiresArg: true,
        describe: "The audience of the projected tokens (default sts.amazonaws.com)",
        group: "The webhook:",
      })
      .option("token-expiration", {
        type: "number",
        default: 86_400,
        requiresArg: true,
        describe: "The tokens' lifetime in seconds, 3600 to 604800",
        group: "The webhook:",
      })
      .option("region", {
        type: "string",
        requiresArg: true,
        describe: "AWS region: --aws-default-region and the regional STS endpoint (default: neither)",
        group: "The webhook:",
      })
      .option("annotation-prefix", {
        type: "string",
        requiresArg: true,
        describe: "The service-account annotation prefix the webhook reads (default eks.amazonaws.com)",
        group: "The webhook:",
      })
      .option("cert-manager", {
        choices: ["auto", "yes", "no"] as const,
        default: "auto" as const,
        describe:
          "TLS from cert-manager (yes), made here and kept in a Secret (no), or cert-manager when the cluster has it (auto)",
        group: "TLS:",
      })
      .option("key-type", {
        choices: ["ecdsa-p256", "rsa-2048"] as const,
        default: "ecdsa-p256" as const,
        describe: "The key type of certificates made here",
        group: "TLS:",
      })
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "Print what would be created, changed or left unchanged, and change nothing",
      })
      .option("manifests", {
        type: "string",
        requiresArg: true,
        describe:
          "Write the manifests (multi-document YAML) to FILE for GitOps instead of applying them; with --cert-manager yes or no, no cluster is needed",
      })
      .example(
        "$0 webhook install --kubeconfig prod.kubeconfig --region us-west-2",
        "Install, or bring up to date",
      )
      .example(
        "$0 webhook install --cert-manager yes --manifests webhook.yaml",
        "Manifests for a GitOps repository",
      ),
  handler: (args) => runInstall(args),
});

async function runInstall(args: InstallArgs): Promise<void> {
  const webhook = await import("@irsa-anywhere/webhook");
  const options: WebhookInstallOptions = {
    namespace: args.namespace,
    replicas: args.replicas,
    tokenExpiration: args["token-expiration"],
    certManager: args["cert-manager"],
    keyType: args["key-type"],
    ...(args.image !== undefined && { image: args.image }),
    ...(args["token-audience"] !== undefined && { tokenAudience: args["token-audience"] }),
    ...(args.region !== undefined && { region: args.region }),
    ...(args["annotation-prefix"] !== undefined && { annotationPrefix: args["annotation-prefix"] }),
  };
  const started = Date.now();
  if (args.manifests !== undefined && args["dry-run"]) {
    throw new UsageError("--dry-run and --manifests do not go together: --manifests applies nothing already");
  }
  if (args.manifests !== undefined) {
    const certManager = args["cert-manager"];
    const objects =
      certManager === "auto"
        ? (await webhook.resolveWebhookObjects(await connectWebhookCluster(args), options)).objects
        : webhook.webhookManifestsOffline({ ...options, certManager });
    const holdsKeys = objects.some((object) => object.kind === "Secret");
    if (holdsKeys && args.manifests === "-") {
      throw new UsageError(
        "these manifests hold the webhook's CA private key, which is never written to standard output; give --manifests FILE, or --cert-manager yes",
      );
    }
    await emit(await manifestsYaml(objects), args.manifests, { mode: holdsKeys ? 0o600 : 0o644 });
    if (holdsKeys && args["log-format"] === "text") {
      process.stderr.write(
        `${args.manifests} holds the webhook's CA and serving private keys: keep it out of plain Git (encrypt it, e.g. with SOPS or sealed-secrets)\n`,
      );
    }
    logEvent(args["log-format"], {
      action: "webhook-manifests",
      message: `wrote ${args.manifests}`,
      objects: objects.length,
    });
    return;
  }
  const cluster = await connectWebhookCluster(args);
  const plan = await webhook.planWebhookInstall(cluster, options);
  const summary = webhookPlanSummary(plan);
  const report = {
    server: cluster.server,
    namespace: plan.namespace,
    tls: plan.tls,
    certificates: plan.certificates,
    changes: plan.changes.map((change) => ({ action: change.action, ...change.ref })),
  };
  const planText = await webhookPlanText(plan);
  if (args["dry-run"]) {
    process.stdout.write(
      args.json
        ? `${JSON.stringify({ ...report, dryRun: true }, null, 2)}\n`
        : `${planText}\n\nplan for ${cluster.server}: ${summary} (TLS: ${plan.tls}, certificates: ${plan.certificates}); nothing was changed\n`,
    );
    return;
  }
  const text = args["log-format"] === "text";
  if (text) process.stderr.write(`applying to ${cluster.server}: ${summary}\n`);
  logEvent(args["log-format"], { action: "webhook-apply", message: summary, namespace: plan.namespace });
  await webhook.installWebhook(cluster, plan, rolloutWait(args, plan.namespace, started));
  process.stdout.write(
    args.json
      ? `${JSON.stringify({ ...report, ready: true }, null, 2)}\n`
      : `${planText}\n\ninstalled in ${plan.namespace} on ${cluster.server}: ${summary.replace("to create", "created").replace("to change", "changed")}; every replica ready\n`,
  );
}

/** What is left of --timeout (5 minutes by default) for the replicas, and a line per change in how many are ready. */
function rolloutWait(args: ClusterArgs, namespace: string, started: number) {
  return {
    timeoutMs: Math.max(1, (args.timeoutMs ?? 300_000) - (Date.now() - started)),
    onProgress: ({ ready, desired }: { ready: number; desired: number }) => {
      const message = `waiting for Deployment ${namespace}/pod-identity-webhook: ${ready} of ${desired} replicas ready`;
      if (args["log-format"] === "text") process.stderr.write(`${message}\n`);
      logEvent(args["log-format"], { action: "webhook-wait", message, ready, desired });
    },
  };
}

/** `2 to create, 1 to change, 5 unchanged`: a webhook plan in one line. */
export function webhookPlanSummary(plan: WebhookInstallPlan): string {
  const count = (action: string) => plan.changes.filter((change) => change.action === action).length;
  return `${count("create")} to create, ${count("change")} to change, ${count("unchanged")} unchanged`;
}

/** One line per object of a webhook plan: what applying it does, and the object. */
export async function webhookPlanText(plan: WebhookInstallPlan): Promise<string> {
  const { describeRef } = await import("@irsa-anywhere/kube");
  return plan.changes.map((change) => `${change.action.padEnd(9)} ${describeRef(change.ref)}`).join("\n");
}

/** The objects as multi-document YAML, in the order to apply them. */
async function manifestsYaml(objects: readonly WebhookObject[]): Promise<string> {
  const { stringify } = await import("yaml");
  return objects.map((object) => `---\n${stringify(JSON.parse(JSON.stringify(object)))}`).join("");
}

const statusCommand = defineCommand({
  command: "status",
  describe: "Check the installed webhook: version, replicas ready, certificate expiry, CA bundle, service",
  builder: (y) =>
    clusterOptions(y, "Print the checks as one JSON object")
      .example("$0 webhook status --kubeconfig prod.kubeconfig", "Is the webhook healthy?")
      .epilogue(
        "Exit codes: 0 healthy (warnings allowed), 1 a check failed (or a run-time error), 2 bad input or usage.",
      ),
  handler: async (args) => {
    const { webhookStatus } = await import("@irsa-anywhere/webhook");
    const health = await webhookStatus(await connectWebhookCluster(args), args.namespace);
    process.stdout.write(
      args.json
        ? `${JSON.stringify({ namespace: args.namespace, ...health }, null, 2)}\n`
        : describeChecks(args.namespace, health.checks, health.version),
    );
    if (!health.healthy) process.exitCode = EXIT_FAILURE;
  },
});

function describeChecks(
  namespace: string,
  checks: readonly WebhookCheck[],
  version: string | undefined,
): string {
  const out = process.stdout;
  const lines = [`pod identity webhook in ${namespace}${version === undefined ? "" : `: ${version}`}`, ""];
  for (const check of checks) {
    lines.push(`${statusMark(out, check.status)}  ${check.id}: ${check.message}`);
    if (check.fix !== undefined && check.status !== "pass") lines.push(`      fix: ${check.fix}`);
  }
  return `${lines.join("\n")}\n`;
}

const renewCommand = defineCommand({
  command: "renew-cert",
  describe:
    "Replace the webhook's serving certificate with a new one from the same CA and restart its pods to serve it (not with cert-manager, which renews)",
  builder: (y) =>
    clusterOptions(y, "Print the renewal as one JSON object").example(
      "$0 webhook renew-cert --kubeconfig prod.kubeconfig",
      "A new serving certificate, valid for a year, and a rolling restart of the webhook; the CA bundle stays",
    ),
  handler: async (args) => {
    const started = Date.now();
    const { renewWebhookCertificate } = await import("@irsa-anywhere/webhook");
    const renewal = await renewWebhookCertificate(
      await connectWebhookCluster(args),
      args.namespace,
      rolloutWait(args, args.namespace, started),
    );
    const message = `renewed the serving certificate in ${renewal.namespace}: valid until ${renewal.notAfter.toISOString()}${renewal.previousNotAfter ? ` (was ${renewal.previousNotAfter.toISOString()})` : ""}; the CA and its bundle are unchanged; every replica restarted with it is ready`;
    logEvent(args["log-format"], { action: "webhook-renew-cert", message, notAfter: renewal.notAfter });
    process.stdout.write(args.json ? `${JSON.stringify(renewal, null, 2)}\n` : `${message}\n`);
  },
});

const uninstallCommand = defineCommand({
  command: "uninstall",
  describe: "Remove exactly what webhook install created (by its label and field manager), nothing else",
  builder: (y) =>
    clusterOptions(y, "Print what is (or would be) removed as one JSON object")
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "Print what would be removed, and remove nothing",
      })
      .example("$0 webhook uninstall --kubeconfig prod.kubeconfig --dry-run", "What would go?"),
  handler: (args) => runUninstall(args),
});

async function runUninstall(args: UninstallArgs): Promise<void> {
  const { planWebhookUninstall, uninstallWebhook } = await import("@irsa-anywhere/webhook");
  const { describeRef } = await import("@irsa-anywhere/kube");
  const cluster = await connectWebhookCluster(args);
  const refs = await planWebhookUninstall(cluster, args.namespace);
  if (!args["dry-run"]) await uninstallWebhook(cluster, refs);
  const verb = args["dry-run"] ? "would remove" : "removed";
  const summary =
    refs.length === 0
      ? `nothing of irsa-anywhere's webhook in namespace ${args.namespace} on ${cluster.server}`
      : `${verb} ${refs.length} object${refs.length === 1 ? "" : "s"} from ${cluster.server}`;
  logEvent(args["log-format"], { action: "webhook-uninstall", message: summary, dryRun: args["dry-run"] });
  process.stdout.write(
    args.json
      ? `${JSON.stringify({ server: cluster.server, namespace: args.namespace, dryRun: args["dry-run"], removed: refs }, null, 2)}\n`
      : `${refs.map((ref) => `${args["dry-run"] ? "remove" : "removed"}  ${describeRef(ref)}`).join("\n")}${refs.length > 0 ? "\n\n" : ""}${summary}\n`,
  );
}

/** The subcommands, in the order the help lists them. */
export const webhookSubcommands = [installCommand, statusCommand, renewCommand, uninstallCommand];

export const webhookCommand = defineCommand({
  command: "webhook",
  describe: "Install, check, renew the certificate of, and remove the pod identity webhook",
  builder: (y) => {
    let webhook = withExitCodes(y);
    for (const subcommand of webhookSubcommands) webhook = webhook.command(subcommand as never);
    return webhook.demandCommand(1, "say which: install, status, renew-cert or uninstall");
  },
  // Never runs: demandCommand refuses `webhook` without a subcommand before any handler.
  handler: () => {},
});

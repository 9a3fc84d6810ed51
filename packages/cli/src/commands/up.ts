import type { Diagnosis } from "@irsa-anywhere/doctor";
import { IrsaAnywhereError } from "@irsa-anywhere/errors";
import type { KeySources } from "@irsa-anywhere/keys";
import type { PublishResult } from "@irsa-anywhere/publisher";
import type { ServiceAccountRoleOutcome } from "@irsa-anywhere/role";
import { awsSettingsFromArgs } from "../aws-options.js";
import { SERVICE_ACCOUNT_FORMS, withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { EXIT_FAILURE } from "../exit-codes.js";
import { exitCodeFor, failWith } from "../failure.js";
import { keySourceOptions, readKeySourceArgs } from "../key-sources.js";
import { type LogFormat, logEvent } from "../log.js";
import { type PublishTargetArgs, publishOptionsFromArgs, publishTargetOptions } from "../publish-options.js";
import { describeResult } from "../publish-run.js";
import { repeated } from "../repeated-options.js";
import { paint } from "../terminal.js";
import { UsageError } from "../usage-error.js";
import { describeDiagnosis, readCaFile } from "./doctor.js";
import { connectWebhookCluster, webhookPlanSummary, webhookPlanText } from "./webhook.js";

export interface UpArgs extends PublishTargetArgs {
  "webhook-namespace": string;
  "cert-manager": "auto" | "yes" | "no";
  "service-account"?: string | undefined;
  "role-name"?: string | undefined;
  "attach-policy-arn"?: string | string[] | undefined;
  "smoke-test": boolean;
  "ca-file"?: string | undefined;
  "log-format": LogFormat;
}

/** The steps of `up`, in order; each names itself in progress lines and in a failure. */
const STEPS = ["keys", "publish", "webhook", "role", "doctor"] as const;
type Step = (typeof STEPS)[number];

const STEP_TITLES: Record<Step, string> = {
  keys: "read the keys",
  publish: "publish the issuer and register the IAM OIDC provider",
  webhook: "install the pod identity webhook",
  role: "create the role and its service account",
  doctor: "run doctor",
};

export const upCommand = defineCommand({
  command: "up",
  describe:
    "After the cluster exists: read its keys, publish the issuer (and register the IAM provider), install the webhook, optionally create a first role, and run doctor; each step skipped when already done",
  builder: (y) =>
    publishTargetOptions(withExitCodes(keySourceOptions(y)))
      .demandOption("cluster", "say which cluster: --cluster NAME (its NAME-sa secret holds the keys)")
      .option("webhook-namespace", {
        type: "string",
        default: "irsa-anywhere",
        requiresArg: true,
        describe: "The pod identity webhook's namespace (never kube-system)",
        group: "The webhook:",
      })
      .option("cert-manager", {
        choices: ["auto", "yes", "no"] as const,
        default: "auto" as const,
        describe:
          "The webhook's TLS from cert-manager (yes), made here (no), or cert-manager when the cluster has it (auto)",
        group: "The webhook:",
      })
      .option("service-account", {
        type: "string",
        requiresArg: true,
        describe: `A first workload's service account, ${SERVICE_ACCOUNT_FORMS}: created or annotated, with --role-name`,
        group: "A first role:",
      })
      .option("role-name", {
        type: "string",
        requiresArg: true,
        describe: "The IAM role that service account assumes (created, or its trust policy merged)",
        group: "A first role:",
      })
      .option("attach-policy-arn", {
        type: "string",
        nargs: 1,
        describe: "A managed policy to attach to the role; repeatable",
        group: "A first role:",
      })
      .option("smoke-test", {
        type: "boolean",
        default: true,
        describe:
          "With a first role: doctor signs a token with the cluster's key and assumes the role through STS (--no-smoke-test to skip)",
        group: "Doctor:",
      })
      .option("ca-file", {
        type: "string",
        requiresArg: true,
        describe: "Doctor also trusts this CA (PEM) for the issuer, e.g. a private one in a test",
        group: "Doctor:",
      })
      .example(
        "$0 up --cluster prod --kubeconfig prod/prod-eks-a-cluster.kubeconfig --bucket my-oidc --prefix prod --region us-west-2 --public-read-policy",
        "Right after eksctl anywhere create cluster; a second run changes nothing",
      )
      .example(
        "$0 up --cluster prod --bucket my-oidc --prefix prod --cloudfront --service-account payments/api --role-name payments-api --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "Through CloudFront, with a first workload's role, proved by doctor's smoke test",
      )
      .example(
        "$0 up --cluster prod --bucket my-oidc --prefix prod --dry-run",
        "The whole plan; nothing written",
      )
      .epilogue(
        "A failed step names itself and what was already done; run the same command again to continue from there.\nExit codes: 0 done and doctor found nothing failed, 1 a step failed at run time or a doctor check failed, 2 bad input or usage.",
      ),
  handler: (args) => runUp(args),
});

/** Where `up` is: the steps done, for the progress lines and for a failure's message. */
class UpProgress {
  readonly done: string[] = [];
  private current: Step | undefined;

  constructor(private readonly format: LogFormat) {}

  start(step: Step): void {
    this.current = step;
    // On a terminal, a line that the step's outcome replaces; in a log, only the outcome.
    if (this.format === "text" && process.stderr.isTTY)
      process.stderr.write(`${paint(process.stderr, 2, `${this.number(step)} ${STEP_TITLES[step]}...`)}`);
  }

  finish(outcome: "done" | "unchanged" | "planned" | "skipped", message: string): void {
    const step = this.current as Step;
    this.current = undefined;
    if (outcome !== "skipped") this.done.push(`${STEP_TITLES[step]} (${outcome})`);
    if (this.format === "json") {
      logEvent("json", { action: "up-step", step, outcome, message });
      return;
    }
    const clear = process.stderr.isTTY ? "\r\u001b[K" : "";
    const mark = outcome === "done" ? paint(process.stderr, 32, outcome) : outcome;
    process.stderr.write(`${clear}${this.number(step)} ${STEP_TITLES[step]}: ${mark}, ${message}\n`);
  }

  /** The step that threw, what was done before it, and that a re-run continues: one line, the error's exit code. */
  fail(error: unknown): never {
    const exitCode = exitCodeFor(error);
    if (exitCode === undefined || this.current === undefined) throw error;
    if (this.format === "text" && process.stderr.isTTY) process.stderr.write("\r\u001b[K");
    const done = this.done.length === 0 ? "nothing yet" : this.done.join("; ");
    failWith(
      `up stopped at step ${this.number(this.current)} "${STEP_TITLES[this.current]}": ${(error as Error).message} (done before it: ${done}); fix that and run the same up again: it continues from there`,
      exitCode,
    );
  }

  private number(step: Step): string {
    return `[${STEPS.indexOf(step) + 1}/${STEPS.length}]`;
  }
}

export async function runUp(args: UpArgs): Promise<void> {
  const started = Date.now();
  const dryRun = args["dry-run"];
  const wantsRole = args["service-account"] !== undefined || args["role-name"] !== undefined;
  if (wantsRole && (args["service-account"] === undefined || args["role-name"] === undefined)) {
    throw new UsageError(
      "a first role needs both --service-account NS/NAME and --role-name NAME; give both, or neither",
    );
  }
  if (!wantsRole && args["attach-policy-arn"] !== undefined) {
    throw new UsageError("--attach-policy-arn is for the first role; add --service-account and --role-name");
  }
  // Every check of the command line before the first request.
  const publishOptions = await publishOptionsFromArgs(args, []);
  const ca = args["ca-file"] === undefined ? undefined : await readCaFile(args["ca-file"]);
  const progress = new UpProgress(args["log-format"]);
  const plans: string[] = [];
  const remainingMs = () => Math.max(1, (args.timeoutMs ?? 300_000) - (Date.now() - started));

  try {
    progress.start("keys");
    const sources: KeySources = await readKeySourceArgs(args);
    progress.finish(
      "done",
      `${new Set(sources.keys.map((key) => key.kid)).size} key(s) from secret ${args.namespace}/${args.cluster}-sa${sources.signingKey ? " (and the private key, for doctor's smoke test)" : ""}`,
    );

    progress.start("publish");
    const { publish } = await import("@irsa-anywhere/publisher");
    const published = await publish({ ...publishOptions, keys: sources.keys });
    const publishChanged = publishChanges(published);
    if (dryRun) plans.push(`# publish\n${describeResult(published)}`);
    progress.finish(
      dryRun ? "planned" : publishChanged === 0 ? "unchanged" : "done",
      `issuer ${published.issuer}${dryRun ? `: ${publishChanged} change(s) to make` : publishChanged === 0 ? "" : `: ${publishChanged} change(s) made`}`,
    );

    progress.start("webhook");
    const webhook = await import("@irsa-anywhere/webhook");
    const cluster = await connectWebhookCluster(args);
    const plan = await webhook.planWebhookInstall(cluster, {
      namespace: args["webhook-namespace"],
      certManager: args["cert-manager"],
      ...(args.region !== undefined && { region: args.region }),
    });
    const summary = webhookPlanSummary(plan);
    const upToDate = plan.changes.every((change) => change.action === "unchanged");
    if (dryRun) {
      plans.push(`# webhook (${cluster.server})\n${await webhookPlanText(plan)}\n${summary}\n`);
      progress.finish("planned", summary);
    } else if (upToDate && (await webhook.webhookStatus(cluster, plan.namespace)).healthy) {
      progress.finish("unchanged", `installed in ${plan.namespace} and healthy`);
    } else {
      await webhook.installWebhook(cluster, plan, { timeoutMs: remainingMs() });
      progress.finish(
        "done",
        `${summary.replace("to create", "created").replace("to change", "changed")}; every replica ready`,
      );
    }

    let role: ServiceAccountRoleOutcome | undefined;
    progress.start("role");
    if (!wantsRole) {
      progress.finish(
        "skipped",
        "no --service-account and --role-name given (add one later with role create)",
      );
    } else if (dryRun && published.oidcProvider?.action === "create") {
      // The role's checks need the provider, which this run would only now register.
      plans.push(
        `# role\nwould create or update role ${args["role-name"]} for ${args["service-account"]} once the IAM OIDC provider exists\n`,
      );
      progress.finish("planned", `role ${args["role-name"]}, after the IAM OIDC provider`);
    } else {
      const { ensureServiceAccountRole } = await import("@irsa-anywhere/role");
      role = await ensureServiceAccountRole({
        issuer: published.issuer,
        roleName: args["role-name"] as string,
        serviceAccounts: [args["service-account"] as string],
        attachPolicyArns: repeated(args["attach-policy-arn"]),
        audience: repeated(args.audience)[0],
        region: args.region,
        awsSettings: await awsSettingsFromArgs(args),
        kubernetes: { kubeconfig: args.kubeconfig, context: args.context },
        timeoutMs: args.timeoutMs,
        dryRun,
      });
      if (dryRun) {
        plans.push(
          `# role\n${role.changes.length === 0 ? `role ${role.roleName} is already as asked\n` : role.changes.map((change) => `would ${change.description}\n`).join("")}`,
        );
      }
      progress.finish(
        dryRun ? "planned" : role.changes.length === 0 ? "unchanged" : "done",
        `role ${role.roleArn} for ${args["service-account"]}${role.changes.length === 0 ? "" : `: ${role.changes.length} change(s)${dryRun ? " to make" : " made"}`}`,
      );
    }

    progress.start("doctor");
    if (dryRun) {
      progress.finish("planned", "doctor runs after the other steps");
      process.stdout.write(`Dry run: nothing was written.\n\n${plans.join("\n")}`);
      return;
    }
    const diagnosis = await runDiagnosis(args, sources, published, role, ca);
    const count = (status: string) => diagnosis.checks.filter((check) => check.status === status).length;
    progress.finish("done", `${count("pass")} passed, ${count("warn")} warning(s), ${count("fail")} failed`);
    process.stdout.write(describeDiagnosis(diagnosis));
    if (!diagnosis.ok) process.exitCode = EXIT_FAILURE;
  } catch (error) {
    if (error instanceof IrsaAnywhereError) progress.fail(error);
    throw error;
  }
}

/** How many writes a publish made (or in a dry run would make). */
function publishChanges(result: PublishResult): number {
  const actions = [
    result.bucketPolicy?.action,
    result.distribution?.action,
    result.oidcProvider?.action,
    ...result.documents.map((doc) => doc.action),
  ];
  return actions.filter((action) => action !== undefined && action !== "unchanged").length;
}

async function runDiagnosis(
  args: UpArgs,
  sources: KeySources,
  published: PublishResult,
  role: ServiceAccountRoleOutcome | undefined,
  ca: string | undefined,
): Promise<Diagnosis> {
  const { diagnose } = await import("@irsa-anywhere/doctor");
  const { kubernetesTimeoutMs } = await import("@irsa-anywhere/kube");
  // The smoke test needs a role to assume and the private key; both are there with a first role.
  const smokeTest = args["smoke-test"] && role !== undefined && sources.signingKey !== undefined;
  return diagnose({
    issuer: published.issuer,
    keys: sources.keys,
    signingKey: smokeTest ? sources.signingKey : undefined,
    smokeTest,
    roleArn: role?.roleArn,
    serviceAccount: role === undefined ? undefined : args["service-account"],
    kubernetes: { kubeconfig: args.kubeconfig, context: args.context },
    region: args.region,
    awsSettings: await awsSettingsFromArgs(args),
    kubernetesTimeoutMs: kubernetesTimeoutMs(args.timeoutMs),
    ca,
  });
}

import type { Argv } from "yargs";
import { type AwsArgs, awsSettingsFromArgs, PROFILE_OPTION } from "../aws-options.js";
import { SERVICE_ACCOUNT_FORMS, withExitCodes } from "../command-help.js";
import { defineCommand, type GlobalArgs } from "../command-module.js";
import { issuerOption } from "../issuer-option.js";
import { jsonOptions } from "../json-output.js";
import { NAMESPACE_WIDE_OPTION, repeated, SERVICE_ACCOUNTS_OPTION } from "../repeated-options.js";
import { UsageError } from "../usage-error.js";

interface RoleCommonArgs extends AwsArgs {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  "role-only": boolean;
  json: boolean;
}

export interface RoleListArgs extends RoleCommonArgs {
  issuer: string;
}

export interface RoleCreateArgs extends RoleListArgs {
  "role-name": string;
  "service-account"?: string | string[] | undefined;
  "namespace-wide"?: string | string[] | undefined;
  "attach-policy-arn"?: string | string[] | undefined;
  "inline-policy"?: string | undefined;
  "permissions-boundary"?: string | undefined;
  "max-session-duration"?: string | undefined;
  audience?: string | undefined;
  "token-expiration"?: number | undefined;
  "sts-regional-endpoints": boolean;
  overwrite: boolean;
  "dry-run": boolean;
}

export interface RoleDeleteArgs extends RoleCommonArgs {
  issuer?: string | undefined;
  "role-name": string;
  "service-account": string;
  "dry-run": boolean;
}

/** The options every role subcommand takes: the issuer, the cluster, AWS, --role-only and --json. */
function commonOptions(y: Argv<GlobalArgs>, roleOnly: string) {
  return jsonOptions(withExitCodes(y), "Print the plan or the result as one JSON object")
    .option("role-only", { type: "boolean", default: false, describe: roleOnly })
    .option("kubeconfig", {
      type: "string",
      requiresArg: true,
      describe:
        "Kubeconfig of the service accounts' cluster (default: KUBECONFIG, ~/.kube/config, in-cluster)",
      group: "Kubernetes:",
    })
    .option("context", {
      type: "string",
      requiresArg: true,
      describe: "Kubeconfig context (default: its current context)",
      group: "Kubernetes:",
    })
    .option("region", {
      type: "string",
      requiresArg: true,
      describe: "Picks IAM's partition (cn-north-1: aws-cn); default AWS_REGION or the profile's",
      group: "AWS:",
    })
    .option("profile", PROFILE_OPTION);
}

const ISSUER = "Issuer URL, exactly as the cluster's tokens carry it";

const roleNameOption = {
  type: "string",
  demandOption: "say which role: --role-name NAME (IAM's name, no path)",
  requiresArg: true,
  describe: "The IAM role's name",
} as const;

const createCommand = defineCommand({
  command: "create",
  describe:
    "Create the role (or merge the service accounts into its trust policy), attach its policies, and create or annotate the service accounts",
  builder: (y) =>
    commonOptions(y, "Leave the cluster alone: print the annotations to add instead")
      .option("issuer", issuerOption(ISSUER))
      .option("role-name", roleNameOption)
      .option("service-account", SERVICE_ACCOUNTS_OPTION)
      .option("namespace-wide", NAMESPACE_WIDE_OPTION)
      .option("attach-policy-arn", {
        type: "string",
        nargs: 1,
        describe: "A managed policy to attach; repeatable",
      })
      .option("inline-policy", {
        type: "string",
        requiresArg: true,
        describe:
          "A JSON permissions policy file, put as the role's inline policy irsa-anywhere (- for stdin)",
      })
      .option("permissions-boundary", {
        type: "string",
        requiresArg: true,
        describe: "The ARN of the role's permissions boundary",
      })
      .option("max-session-duration", {
        type: "string",
        requiresArg: true,
        describe: "The role's maximum session, 1h to 12h (such as 1h or 90m)",
      })
      .option("audience", {
        type: "string",
        requiresArg: true,
        describe: "The tokens' audience (default sts.amazonaws.com)",
      })
      .option("token-expiration", {
        type: "number",
        requiresArg: true,
        describe: "eks.amazonaws.com/token-expiration, in seconds (at least 3600)",
      })
      .option("sts-regional-endpoints", {
        type: "boolean",
        default: true,
        describe:
          "eks.amazonaws.com/sts-regional-endpoints; --no-sts-regional-endpoints for the legacy global endpoint",
      })
      .option("overwrite", {
        type: "boolean",
        default: false,
        describe: "Point a service account that names another role at this one",
      })
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "Print each change (the trust policy and annotation diffs), make none",
      })
      .example(
        "$0 role create --issuer https://oidc.example.com/prod --service-account payments/api --role-name payments-api --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "The role and the annotated service account, in one step; a second run changes nothing",
      )
      .example(
        "$0 role create --issuer https://oidc.example.com/prod --service-account payments/api --role-name payments-api --dry-run",
        "What would change",
      ),
  handler: (args) => runRoleCreate(args),
});

const listCommand = defineCommand({
  command: "list",
  describe:
    "List the roles that trust the issuer, the service accounts each lets in, and whether they carry the annotation",
  builder: (y) =>
    commonOptions(y, "Read IAM only, not the cluster")
      .option("issuer", issuerOption(ISSUER))
      .example(
        "$0 role list --issuer https://oidc.example.com/prod --kubeconfig prod.kubeconfig",
        "Every role of this cluster",
      ),
  handler: (args) => runRoleList(args),
});

const deleteCommand = defineCommand({
  command: "delete",
  describe:
    "Take a service account out of a role's trust policy and its annotation off; delete the role when this tool made it and nothing else is left",
  builder: (y) =>
    commonOptions(y, "Change the trust policy only, not the service account")
      .option("issuer", {
        type: "string",
        requiresArg: true,
        describe: `${ISSUER} (default: the one the role's irsa-anywhere/issuers tag names)`,
      })
      .option("role-name", roleNameOption)
      .option("service-account", {
        type: "string",
        demandOption: "say which service account: --service-account NS/NAME",
        requiresArg: true,
        describe: SERVICE_ACCOUNT_FORMS,
      })
      .option("dry-run", { type: "boolean", default: false, describe: "Print each change, make none" })
      .example(
        "$0 role delete --issuer https://oidc.example.com/prod --role-name payments-api --service-account payments/api",
        "Undo role create",
      ),
  handler: (args) => runRoleDelete(args),
});

/** The subcommands, in the order the help lists them. */
export const roleSubcommands = [createCommand, listCommand, deleteCommand];

export const roleCommand = defineCommand({
  command: "role",
  describe: "An IAM role and its Kubernetes service accounts in one step: create, list, delete",
  builder: (y) => {
    return withExitCodes(y)
      .command(createCommand)
      .command(listCommand)
      .command(deleteCommand)
      .demandCommand(1, "say which: create, list or delete")
      .example(
        "$0 role create --issuer https://oidc.example.com/prod --service-account payments/api --role-name payments-api",
        "Create the role and annotate the service account",
      );
  },
  // Never runs: demandCommand refuses `role` alone before any handler.
  handler: () => {},
});

async function clientOptions(args: RoleCommonArgs) {
  return {
    roleOnly: args["role-only"],
    awsSettings: await awsSettingsFromArgs(args),
    ...(args.region === undefined ? {} : { region: args.region }),
    kubernetes: { kubeconfig: args.kubeconfig, context: args.context },
    timeoutMs: args.timeoutMs,
  };
}

export async function runRoleCreate(args: RoleCreateArgs): Promise<void> {
  const { ensureServiceAccountRole } = await import("@irsa-anywhere/role");
  const { parseDuration } = await import("@irsa-anywhere/publisher");
  const inlineFile = args["inline-policy"];
  let inlinePolicy: string | undefined;
  if (inlineFile !== undefined) {
    const { INPUT_LIMITS, readInput } = await import("@irsa-anywhere/errors");
    inlinePolicy = await readInput(inlineFile, { maxBytes: INPUT_LIMITS.document, what: "--inline-policy" });
  }
  let maxSession: number | undefined;
  if (args["max-session-duration"] !== undefined) {
    const ms = parseDuration(args["max-session-duration"]);
    if (!Number.isFinite(ms)) {
      throw new UsageError(
        `--max-session-duration ${args["max-session-duration"]} is not a duration; give one like 1h or 90m`,
      );
    }
    maxSession = Math.round(ms / 1000);
  }
  const tokenExpiration = args["token-expiration"];
  if (tokenExpiration !== undefined && Number.isNaN(tokenExpiration)) {
    throw new UsageError("--token-expiration takes whole seconds, such as 86400");
  }
  const outcome = await ensureServiceAccountRole({
    ...(await clientOptions(args)),
    issuer: args.issuer,
    roleName: args["role-name"],
    serviceAccounts: repeated(args["service-account"]),
    namespaceWide: repeated(args["namespace-wide"]),
    attachPolicyArns: repeated(args["attach-policy-arn"]),
    ...(inlinePolicy === undefined
      ? {}
      : { inlinePolicy, inlinePolicySource: `--inline-policy ${inlineFile}` }),
    permissionsBoundaryArn: args["permissions-boundary"],
    maxSessionDurationSeconds: maxSession,
    audience: args.audience,
    tokenExpirationSeconds: tokenExpiration,
    stsRegionalEndpoints: args["sts-regional-endpoints"],
    overwrite: args.overwrite,
    dryRun: args["dry-run"],
  });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  if (outcome.changes.length === 0) {
    out.push(
      `role ${outcome.roleName} (${outcome.roleArn}) and its service accounts are already as asked; nothing changed`,
    );
  } else {
    out.push(`${outcome.dryRun ? "would change" : "changed"}:`);
    for (const change of outcome.changes) out.push(`  ${change.description}`);
    if (outcome.dryRun && outcome.trustPolicy.diff.length > 0) {
      out.push(
        `trust policy of ${outcome.roleName}:`,
        ...outcome.trustPolicy.diff.map((line) => `  ${line}`),
      );
    }
    if (outcome.dryRun) {
      for (const account of outcome.serviceAccounts) {
        if (account.diff.length === 0) continue;
        out.push(
          `annotations of ${account.namespace}/${account.name}:`,
          ...account.diff.map((line) => `  ${line}`),
        );
      }
    }
  }
  if (args["role-only"] && repeated(args["service-account"]).length > 0) {
    const pairs = Object.entries(outcome.annotations).map(([k, v]) => `${k}=${v}`);
    out.push(`annotate each service account (--role-only left the cluster alone):`);
    const { parseServiceAccount } = await import("@irsa-anywhere/iam");
    for (const { namespace, name } of repeated(args["service-account"]).map(parseServiceAccount)) {
      out.push(`  kubectl annotate serviceaccount -n ${namespace} ${name} --overwrite ${pairs.join(" ")}`);
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

export async function runRoleList(args: RoleListArgs): Promise<void> {
  const { listServiceAccountRoles } = await import("@irsa-anywhere/role");
  const roles = await listServiceAccountRoles({ ...(await clientOptions(args)), issuer: args.issuer });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(roles, null, 2)}\n`);
    return;
  }
  if (roles.length === 0) {
    process.stdout.write(`no role of this account trusts ${args.issuer}\n`);
    return;
  }
  const out: string[] = [];
  for (const role of roles) {
    out.push(`${role.roleName} (${role.roleArn})${role.managed ? ", made by irsa-anywhere" : ""}`);
    for (const account of role.serviceAccounts) {
      const state =
        account.exists === undefined
          ? ""
          : !account.exists
            ? ": no such service account"
            : account.annotated
              ? ": annotated"
              : ": not annotated with this role";
      out.push(`  ${account.serviceAccount ?? account.subject}${state}`);
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

export async function runRoleDelete(args: RoleDeleteArgs): Promise<void> {
  const { removeServiceAccountRole } = await import("@irsa-anywhere/role");
  const outcome = await removeServiceAccountRole({
    ...(await clientOptions(args)),
    issuer: args.issuer,
    roleName: args["role-name"],
    serviceAccount: args["service-account"],
    dryRun: args["dry-run"],
  });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  if (outcome.changes.length === 0)
    out.push(`role ${outcome.roleName} does not trust ${args["service-account"]}; nothing changed`);
  else {
    out.push(
      `${outcome.dryRun ? "would change" : "changed"}:`,
      ...outcome.changes.map((c) => `  ${c.description}`),
    );
    if (outcome.dryRun && outcome.trustPolicy.diff.length > 0) {
      out.push(
        `trust policy of ${outcome.roleName}:`,
        ...outcome.trustPolicy.diff.map((line) => `  ${line}`),
      );
    }
  }
  if (!outcome.roleDeleted) {
    out.push(
      outcome.left.length > 0
        ? `role ${outcome.roleName} stays: its trust policy still lets in ${outcome.left.join(", ")}`
        : `role ${outcome.roleName} stays: irsa-anywhere did not create it; delete it yourself if nothing needs it`,
    );
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

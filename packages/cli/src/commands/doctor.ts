import { X509Certificate } from "node:crypto";
import type { Check, Diagnosis } from "@irsa-anywhere/doctor";
import { INPUT_LIMITS, IrsaAnywhereError, pemCertificateBlocks, readInput } from "@irsa-anywhere/errors";
import type { KeySources, PublicSigningKey } from "@irsa-anywhere/keys";
import { kubernetesTimeoutMs } from "@irsa-anywhere/kube";
import { type AwsArgs, awsSettingsFromArgs, PROFILE_OPTION } from "../aws-options.js";
import { SERVICE_ACCOUNT_FORMS } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { EXIT_FAILURE } from "../exit-codes.js";
import { issuerOption } from "../issuer-option.js";
import { jsonOptions } from "../json-output.js";
import { hasKeySource, type KeySourceArgs, keySourceOptions, readKeySourceArgs } from "../key-sources.js";
import { statusMark } from "../terminal.js";
import { UsageError } from "../usage-error.js";

export interface DoctorArgs extends KeySourceArgs, AwsArgs {
  issuer: string;
  "role-arn"?: string | undefined;
  "service-account"?: string | undefined;
  audience?: string | undefined;
  "smoke-test": boolean;
  "ca-file"?: string | undefined;
  aws: boolean;
  json: boolean;
}

export const doctorCommand = defineCommand({
  command: "doctor",
  describe:
    "Check every link of the IRSA chain (issuer documents, keys, IAM provider, trust policy, cluster) and explain each broken one",
  builder: (y) =>
    jsonOptions(keySourceOptions(y), "Print every check as JSON")
      .option("issuer", issuerOption("Issuer URL, exactly as the cluster's tokens carry it"))
      .option("service-account", {
        type: "string",
        requiresArg: true,
        describe: `The service account whose pods assume the role: ${SERVICE_ACCOUNT_FORMS}`,
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
        describe: "The tokens' audience (default: the service account's annotation, else sts.amazonaws.com)",
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
  handler: (args) => runDoctor(args),
});

export async function runDoctor(args: DoctorArgs): Promise<void> {
  // Loaded here, so that the other commands never pay for it (nor for the AWS SDK it loads).
  const { diagnose } = await import("@irsa-anywhere/doctor");
  // Before anything waits on the network, so that a mistake is named at once.
  const awsSettings = await awsSettingsFromArgs(args);
  let keys: PublicSigningKey[] | undefined;
  let keysUnavailable: string | undefined;
  let sources: KeySources | undefined;
  if (hasKeySource(args)) {
    try {
      // Read once, for the public keys and the smoke test's private key alike: so `-` works too.
      sources = await readKeySourceArgs(args);
      keys = sources.keys;
    } catch (error) {
      // A cluster that is down or refuses is a finding, not a reason to check nothing else; a
      // mistake in the user's input (a bad file, a missing secret) still stops here. The smoke
      // test cannot go on without the key, so it stops there too.
      if (!(error instanceof IrsaAnywhereError && error.fault === "environment") || args["smoke-test"])
        throw error;
      keysUnavailable = (error as Error).message;
    }
  }
  const signingKey = args["smoke-test"] ? sources?.signingKey : undefined;
  const ca = args["ca-file"] === undefined ? undefined : await readCaFile(args["ca-file"]);
  // The cluster side is checked when the command names a cluster, or runs inside one.
  const namesCluster =
    args.kubeconfig !== undefined ||
    args.context !== undefined ||
    args.cluster !== undefined ||
    args["cluster-jwks"] === true ||
    process.env.KUBERNETES_SERVICE_HOST !== undefined;

  const diagnosis = await diagnose({
    issuer: args.issuer,
    keys,
    keysUnavailable,
    signingKey,
    smokeTest: args["smoke-test"],
    roleArn: args["role-arn"],
    serviceAccount: args["service-account"],
    audience: args.audience,
    kubernetes: namesCluster ? { kubeconfig: args.kubeconfig, context: args.context } : undefined,
    aws: args.aws,
    region: args.region,
    awsSettings,
    kubernetesTimeoutMs: kubernetesTimeoutMs(args.timeoutMs),
    ca,
  });
  process.stdout.write(args.json ? `${JSON.stringify(diagnosis, null, 2)}\n` : describeDiagnosis(diagnosis));
  if (!diagnosis.ok) process.exitCode = EXIT_FAILURE;
}

/** --ca-file: the PEM certificates in it, refused when it holds none. */
export async function readCaFile(file: string): Promise<string> {
  const text = await readInput(file, { maxBytes: INPUT_LIMITS.pem, what: "--ca-file" });
  // Otherwise a wrong file shows up later as an issuer whose chain "does not verify".
  const certificates = pemCertificateBlocks(text);
  const valid = certificates.filter((block) => {
    try {
      new X509Certificate(block);
      return true;
    } catch {
      return false;
    }
  });
  if (valid.length === 0) {
    throw new UsageError(
      `--ca-file ${file} holds no PEM certificate; give the CA certificate (BEGIN CERTIFICATE)`,
    );
  }
  return valid.join("\n");
}

/** One line per check, its fix (and the STS error it causes) on the lines below, then a count. */
export function describeDiagnosis(diagnosis: Diagnosis): string {
  const out = process.stdout;
  const lines = [`irsa-anywhere doctor: ${diagnosis.issuer}`, ""];
  for (const check of diagnosis.checks) {
    lines.push(`${statusMark(out, check.status)}  ${check.title}: ${check.reason}`);
    if (check.status === "fail" || check.status === "warn") {
      if (check.sts) lines.push(`      STS says: ${check.sts}`);
      if (check.fix) lines.push(`      fix: ${check.fix}`);
    }
  }
  const count = (status: Check["status"]) =>
    diagnosis.checks.filter((check) => check.status === status).length;
  const warnings = count("warn");
  lines.push("");
  lines.push(
    `${count("pass")} passed, ${warnings} warning${warnings === 1 ? "" : "s"}, ${count("fail")} failed, ${count("skip")} skipped`,
  );
  return `${lines.join("\n")}\n`;
}

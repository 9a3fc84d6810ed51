import { type AwsArgs, awsSettingsFromArgs, PROFILE_OPTION } from "../aws-options.js";
import { withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { issuerOption } from "../issuer-option.js";
import { NAMESPACE_WIDE_OPTION, repeated, SERVICE_ACCOUNTS_OPTION } from "../repeated-options.js";
import { UsageError } from "../usage-error.js";

export interface TrustPolicyArgs extends AwsArgs {
  issuer: string;
  "service-account"?: string | string[] | undefined;
  "namespace-wide"?: string | string[] | undefined;
  audience?: string | undefined;
  "account-id"?: string | undefined;
  role?: string | undefined;
}

export const trustPolicyCommand = defineCommand({
  command: "trust-policy",
  describe:
    "Print the IAM trust policy that lets these service accounts assume a role (a new one, or --role's with them added)",
  builder: (y) =>
    withExitCodes(y)
      .option("issuer", issuerOption("Issuer URL, exactly as the cluster's tokens carry it"))
      .option("service-account", SERVICE_ACCOUNTS_OPTION)
      .option("namespace-wide", NAMESPACE_WIDE_OPTION)
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
  handler: (args) => runTrustPolicy(args),
});

export async function runTrustPolicy(args: TrustPolicyArgs): Promise<void> {
  // Loaded here, so that the other commands never pay for it.
  const { trustPolicy, trustPolicyForRole } = await import("@irsa-anywhere/iam");
  if (args.role !== undefined && args["account-id"] !== undefined) {
    throw new UsageError("--role names the account (the role's own); leave out --account-id");
  }
  const wanted = {
    awsSettings: await awsSettingsFromArgs(args),
    issuer: args.issuer,
    serviceAccounts: repeated(args["service-account"]),
    namespaceWide: repeated(args["namespace-wide"]),
    ...(args.audience === undefined ? {} : { audience: args.audience }),
    ...(args.region === undefined ? {} : { region: args.region }),
  };
  if (args.role === undefined) {
    const policy = await trustPolicy({
      ...wanted,
      ...(args["account-id"] === undefined ? {} : { accountId: args["account-id"] }),
    });
    process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
    return;
  }
  const merged = await trustPolicyForRole({ ...wanted, role: args.role });
  process.stdout.write(`${JSON.stringify(merged.policy, null, 2)}\n`);
  if (merged.added.length === 0) {
    process.stderr.write(
      `irsa-anywhere: role ${merged.roleName} already lets in ${merged.alreadyAllowed.join(", ")}; its trust policy is printed unchanged\n`,
    );
  }
}

import { trustPolicy, trustPolicyForRole } from "@irsa-anywhere/iam";
import { type AwsArgs, awsSettingsFromArgs } from "../aws-options.js";
import { UsageError } from "../usage-error.js";

export interface TrustPolicyArgs extends AwsArgs {
  issuer: string;
  "service-account"?: string | string[] | undefined;
  "namespace-wide"?: string | string[] | undefined;
  audience?: string | undefined;
  "account-id"?: string | undefined;
  role?: string | undefined;
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());

export async function runTrustPolicy(args: TrustPolicyArgs): Promise<void> {
  if (args.role !== undefined && args["account-id"] !== undefined) {
    throw new UsageError("--role names the account (the role's own); leave out --account-id");
  }
  const wanted = {
    awsSettings: await awsSettingsFromArgs(args),
    issuer: args.issuer,
    serviceAccounts: list(args["service-account"]),
    namespaceWide: list(args["namespace-wide"]),
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

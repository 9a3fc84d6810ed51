import { trustPolicy } from "@irsa-anywhere/doctor";
import { type AwsArgs, awsSettingsFromArgs } from "../aws-options.js";

export interface TrustPolicyArgs extends AwsArgs {
  issuer: string;
  "service-account"?: string | string[] | undefined;
  "namespace-wide"?: string | string[] | undefined;
  audience?: string | undefined;
  "account-id"?: string | undefined;
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());

export async function runTrustPolicy(args: TrustPolicyArgs): Promise<void> {
  const awsSettings = await awsSettingsFromArgs(args);
  const policy = await trustPolicy({
    awsSettings,
    issuer: args.issuer,
    serviceAccounts: list(args["service-account"]),
    namespaceWide: list(args["namespace-wide"]),
    ...(args.audience === undefined ? {} : { audience: args.audience }),
    ...(args["account-id"] === undefined ? {} : { accountId: args["account-id"] }),
    ...(args.region === undefined ? {} : { region: args.region }),
  });
  process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
}

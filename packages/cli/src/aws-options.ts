import type { Argv } from "yargs";
import { UsageError } from "./usage-error.js";

export interface AwsArgs {
  profile?: string | undefined;
  region?: string | undefined;
  /** Set from --timeout by the CLI before any handler runs. */
  timeoutMs?: number | undefined;
}

/**
 * On Node 20 the AWS SDK prints nine lines on every run saying that its 2027 releases will need
 * Node 22: news for whoever upgrades this tool's dependencies, not for each run of a user's job.
 * Called before the SDK loads by whatever runs a command (the full command line, the entry point's
 * `publish --bucket`); a user who sets the variable keeps their setting.
 */
export function quietSdkNodeNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

/** --profile, for every command that talks to AWS. */
export const PROFILE_OPTION = {
  type: "string",
  requiresArg: true,
  describe: "AWS profile of ~/.aws/config and credentials (default AWS_PROFILE); its region is used too",
  group: "AWS:",
} as const;

export function profileOption<T>(yargs: Argv<T>) {
  return yargs.option("profile", PROFILE_OPTION);
}

/**
 * Checks --region and builds the settings of the AWS clients: the profile, and a request timeout
 * no longer than the command's own --timeout.
 */
export async function awsSettingsFromArgs(args: AwsArgs) {
  const { AWS_REQUEST_TIMEOUT_MS, validateRegion } = await import("@irsa-anywhere/iam");
  if (args.region !== undefined) validateRegion(args.region);
  if (args.profile !== undefined && args.profile.trim() === "") {
    throw new UsageError("--profile is empty; give a profile name of ~/.aws/config, or leave it out");
  }
  return {
    ...(args.profile === undefined ? {} : { profile: args.profile }),
    requestTimeoutMs: Math.min(AWS_REQUEST_TIMEOUT_MS, args.timeoutMs ?? AWS_REQUEST_TIMEOUT_MS),
  };
}

import type { BucketPolicyOutcome, DistributionOutcome } from "@irsa-anywhere/publisher";
import { type LogFormat, logEvent } from "./log.js";
import { warn } from "./terminal.js";

type LogLine = { action: string; message: string; [field: string]: unknown };

/** The JSON log lines of the bucket policy statement and the distribution, of `publish` and `init`. */
export function distributionLogLines(
  bucketPolicy: BucketPolicyOutcome | undefined,
  distribution: DistributionOutcome | undefined,
): LogLine[] {
  const lines: LogLine[] = [];
  if (bucketPolicy) {
    lines.push({
      action: "bucket-policy",
      outcome: bucketPolicy.action,
      written: bucketPolicy.written,
      ...(bucketPolicy.scope ? { scope: bucketPolicy.scope } : {}),
      message: bucketPolicy.reason,
    });
  }
  if (distribution) {
    const d = distribution;
    lines.push({
      action: "cloudfront-distribution",
      id: d.id,
      domainName: d.domainName,
      outcome: d.action,
      status: d.status,
      message: `${d.domainName || "(new)"}${d.alias ? ` serving ${d.alias}` : ""}, ${d.status}`,
    });
  }
  return lines;
}

/** The human line of a distribution, after its verb (`created`, `unchanged`, `would create`). */
export function describeDistribution(verb: string, d: DistributionOutcome): string {
  return `${verb} CloudFront distribution ${d.id ? `${d.id} (${d.domainName}${d.alias ? `, serving ${d.alias}` : ""})` : `for ${d.alias ?? "dXXXX.cloudfront.net"}`}  (${d.status})`;
}

/**
 * The human line of a bucket policy statement, after its verb; for the public-read statement,
 * what it lets anyone read.
 */
export function describeBucketPolicy(verb: string, policy: BucketPolicyOutcome): string {
  const grant =
    policy.scope === undefined
      ? ""
      : `; it lets anyone read ${policy.scope === "exact" ? "this issuer's two documents" : "every keys.json and .well-known/openid-configuration in the bucket"}`;
  return `${verb} bucket policy statement ${policy.sid || "(new)"}  (${policy.reason}${grant})`;
}

/** Warnings on stderr: a `warning:` line each, or in JSON logs a `warn` line each. */
export function reportWarnings(format: LogFormat, warnings: readonly string[]): void {
  for (const warning of warnings) {
    if (format === "json") logEvent(format, { action: "warning", level: "warn", message: warning });
    else warn(warning);
  }
}

// What \`publish\` does once its arguments are read, apart from its yargs module
// (commands/publish.ts): the entry point's \`publish --out-dir\` chunk (publish-directory.ts) runs
// it without yargs, and \`rotate\` and \`up\` report with it.
import type { PublishResult } from "@irsa-anywhere/publisher";
import {
  describeBucketPolicy,
  describeDistribution,
  distributionLogLines,
  reportWarnings,
} from "./distribution-report.js";
import { readKeys } from "./key-sources.js";
import { type LogFormat, logEvent } from "./log.js";
import { type PublishTargetArgs, publishOptionsFromArgs } from "./publish-options.js";
import { paint } from "./terminal.js";

export interface PublishArgs extends PublishTargetArgs {
  json: boolean;
  "log-format": LogFormat;
}

export async function runPublish(args: PublishArgs): Promise<void> {
  // Loaded here, so that the other commands never pay for it (nor for the AWS SDK it loads).
  const { publish } = await import("@irsa-anywhere/publisher");
  const options = await publishOptionsFromArgs(args, []);
  const result = await publish({ ...options, keys: await readKeys(args) });
  reportPublish(result, args);
}

/** Prints a publish: warnings and (in JSON logs) one line per action on stderr, the result on stdout. */
export function reportPublish(result: PublishResult, args: { json: boolean; "log-format": LogFormat }): void {
  const format = args["log-format"];
  for (const line of logLines(result)) logEvent(format, line);
  reportWarnings(format, result.warnings);
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (format === "text") process.stdout.write(describeResult(result));
}

function logLines(result: PublishResult) {
  const lines: Array<{ action: string; message: string; [field: string]: unknown }> = [
    ...distributionLogLines(result.bucketPolicy, result.distribution),
  ];
  for (const doc of result.documents) {
    lines.push({
      action: "document",
      document: doc.name,
      location: doc.location,
      outcome: doc.action,
      written: doc.written,
      message: doc.reason,
    });
  }
  if (result.distribution?.invalidation) {
    const i = result.distribution.invalidation;
    lines.push({
      action: "cloudfront-invalidation",
      id: i.id,
      paths: i.paths,
      completed: i.completed,
      message: `invalidated ${i.paths.join(", ")}${i.completed ? "" : " (not complete yet)"}`,
    });
  }
  if (result.oidcProvider) {
    const p = result.oidcProvider;
    lines.push({
      action: "oidc-provider",
      arn: p.arn,
      outcome: p.action,
      written: p.written,
      message: p.reason,
    });
  }
  lines.push({
    action: "keys",
    issuer: result.issuer,
    current: result.keys.current,
    published: result.keys.published,
    pruned: result.keys.pruned,
    waiting: result.keys.waiting,
    dryRun: result.dryRun,
    message: `published ${result.keys.published.length} key(s); current ${result.keys.current}`,
  });
  return lines;
}

/** The human summary of a publish: one line per thing it looked at, then the issuer to configure. */
export function describeResult(result: PublishResult): string {
  const out = process.stdout;
  const verb = (action: string) => {
    if (action === "unchanged") return paint(out, 2, "unchanged".padEnd(14));
    const word = result.dryRun ? `would ${action}` : action === "create" ? "created" : "updated";
    return paint(out, 32, word.padEnd(14));
  };
  const lines: string[] = [];
  if (result.dryRun) lines.push("Dry run: nothing was written.");
  if (result.bucketPolicy)
    lines.push(describeBucketPolicy(verb(result.bucketPolicy.action), result.bucketPolicy));
  if (result.distribution)
    lines.push(describeDistribution(verb(result.distribution.action), result.distribution));
  for (const doc of result.documents) lines.push(`${verb(doc.action)} ${doc.location}  (${doc.reason})`);
  if (result.distribution?.invalidation) {
    const i = result.distribution.invalidation;
    lines.push(
      `${paint(out, 32, "invalidated".padEnd(14))} ${i.paths.join(" ")}  (${i.id}${i.completed ? ", completed" : ", still in progress"})`,
    );
  }
  if (result.oidcProvider) {
    const provider = result.oidcProvider;
    lines.push(`${verb(provider.action)} IAM OIDC provider ${provider.arn ?? "(new)"}  (${provider.reason})`);
  }
  lines.push("");
  lines.push(`issuer: ${result.issuer}`);
  lines.push(`current key: ${result.keys.current}`);
  for (const kid of result.keys.pending) lines.push(`published ahead of a rotation: ${kid}`);
  for (const w of result.keys.waiting)
    lines.push(`kept until ${w.removableAt} (left the cluster ${w.retiredAt}): ${w.kid}`);
  for (const kid of result.keys.pruned) lines.push(`removed (retention passed): ${kid}`);
  if (result.target.kind === "s3") {
    lines.push(`EKS Anywhere cluster spec: spec.podIamConfig.serviceAccountIssuer: ${result.issuer}`);
  }
  return `${lines.join("\n")}\n`;
}

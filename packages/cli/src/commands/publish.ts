import { type PublishResult, publish } from "@irsa-anywhere/publisher";
import { type KeySourceArgs, readKeySources } from "../key-sources.js";
import { paint, warn } from "../terminal.js";
import { UsageError } from "../usage-error.js";

export interface PublishArgs extends KeySourceArgs {
  issuer?: string | undefined;
  "out-dir"?: string | undefined;
  bucket?: string | undefined;
  prefix?: string | undefined;
  region?: string | undefined;
  "endpoint-url"?: string | undefined;
  "external-issuer": boolean;
  audience?: string | string[] | undefined;
  "public-read-policy": boolean;
  "oidc-provider": boolean;
  "empty-kid": boolean;
  "dry-run": boolean;
  json: boolean;
}

export async function runPublish(args: PublishArgs): Promise<void> {
  if ((args["out-dir"] === undefined) === (args.bucket === undefined)) {
    throw new UsageError("say where to publish: --bucket NAME or --out-dir DIR (one of them)");
  }
  if (args["out-dir"] !== undefined && args.issuer === undefined) {
    throw new UsageError("--issuer URL is required with --out-dir: the URL that will serve the directory");
  }
  const keys = await readKeySources(args);
  const result = await publish({
    keys,
    issuer: args.issuer,
    outDir: args["out-dir"],
    bucket: args.bucket,
    prefix: args.prefix,
    region: args.region,
    endpointUrl: args["endpoint-url"],
    externalIssuer: args["external-issuer"],
    audiences: args.audience === undefined ? undefined : [args.audience].flat(),
    publicReadPolicy: args["public-read-policy"],
    oidcProvider: args["oidc-provider"],
    clusterName: args.cluster,
    emptyKidTwin: args["empty-kid"],
    dryRun: args["dry-run"],
  });
  for (const warning of result.warnings) warn(warning);
  process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : describeResult(result));
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
  if (result.bucketPolicy) {
    lines.push(
      `${verb(result.bucketPolicy.action)} bucket policy statement ${result.bucketPolicy.sid}  (${result.bucketPolicy.reason})`,
    );
  }
  for (const doc of result.documents) lines.push(`${verb(doc.action)} ${doc.location}  (${doc.reason})`);
  if (result.oidcProvider) {
    const provider = result.oidcProvider;
    lines.push(`${verb(provider.action)} IAM OIDC provider ${provider.arn ?? "(new)"}  (${provider.reason})`);
  }
  lines.push("");
  lines.push(`issuer: ${result.issuer}`);
  lines.push(
    `current key: ${result.keys.current}${result.keys.retained.length ? `; still published: ${result.keys.retained.join(", ")}` : ""}`,
  );
  if (result.target.kind === "s3") {
    lines.push(`EKS Anywhere cluster spec: spec.podIamConfig.serviceAccountIssuer: ${result.issuer}`);
  }
  return `${lines.join("\n")}\n`;
}

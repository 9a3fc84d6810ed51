import { validateIssuer } from "@irsa-anywhere/discovery";
import { directoryTarget, type PublishResult, publish } from "@irsa-anywhere/publisher";
import { type KeySourceArgs, readKeySources } from "../key-sources.js";
import { paint } from "../terminal.js";
import { UsageError } from "../usage-error.js";

export interface PublishArgs extends KeySourceArgs {
  issuer?: string | undefined;
  "out-dir"?: string | undefined;
  "empty-kid": boolean;
  "dry-run": boolean;
  json: boolean;
}

export async function runPublish(args: PublishArgs): Promise<void> {
  if (args["out-dir"] === undefined) throw new UsageError("say where to publish: --out-dir DIR");
  if (args.issuer === undefined) throw new UsageError("--issuer URL is required with --out-dir");
  validateIssuer(args.issuer);
  const keys = await readKeySources(args);
  const result = await publish({
    issuer: args.issuer,
    keys,
    target: directoryTarget(args["out-dir"]),
    emptyKidTwin: args["empty-kid"],
    dryRun: args["dry-run"],
  });
  process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : describeResult(result));
}

/** The human summary of a publish: one line per document, then the issuer to configure. */
export function describeResult(result: PublishResult): string {
  const out = process.stdout;
  const verb = (action: string) => {
    if (action === "unchanged") return paint(out, 2, "unchanged");
    const word = result.dryRun ? `would ${action}` : action === "create" ? "created" : "updated";
    return paint(out, 32, word);
  };
  const lines = result.documents.map(
    (doc) => `${verb(doc.action).padEnd(12)} ${doc.location}  (${doc.reason})`,
  );
  lines.push(`issuer: ${result.issuer}`);
  lines.push(
    `current key: ${result.keys.current}${result.keys.retained.length ? `, also published: ${result.keys.retained.join(", ")}` : ""}`,
  );
  return `${lines.join("\n")}\n`;
}

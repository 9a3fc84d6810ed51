// `publish --out-dir` as the entry point runs it without yargs (src/plain-commands.ts). The
// bundler makes this file a CommonJS chunk of its own, dist/bundle/publish-directory.cjs, that
// the entry point requires only for that command (scripts/bundle-cli.mjs): the publisher is too
// big to sit in the entry point, which every run of \`keys\` parses whole. It imports the
// publisher's directory code by name, statically, so that the chunk holds that and not the code
// for S3, CloudFront and IAM.
//
// The chunk carries its own copy of the packages it shares with the entry point (errors, keys),
// so it reports its own failures: an error of its copy of errors is not an instance of the
// entry point's.
import { parseDuration, publishToDirectory } from "@irsa-anywhere/publisher";
import { DEFAULT_TIMEOUT, startDeadline } from "./deadline-timer.js";
import { reportError } from "./failure.js";
import { readKeys } from "./key-sources.js";
import { keyHandlingFromArgs } from "./publish-options.js";
import { type PublishArgs, reportPublish } from "./publish-run.js";

/** The arguments of the form the entry point runs here: a directory, and the issuer that serves it. */
export interface DirectoryPublishArgs extends PublishArgs {
  "out-dir": string;
  issuer: string;
}

/**
 * Runs \`publish --out-dir\` as the full command line's handler would after yargs (runPublish), in
 * the same order, so that the same mistake fails the same way: --retain, the keys, then the
 * issuer and the directory. The deadline is the one --timeout gives by default.
 */
export function publishIntoDirectory(args: DirectoryPublishArgs): void {
  const timeoutMs = parseDuration(DEFAULT_TIMEOUT);
  startDeadline(timeoutMs, DEFAULT_TIMEOUT);
  run({ ...args, timeoutMs }).catch(reportError);
}

async function run(args: DirectoryPublishArgs): Promise<void> {
  const options = keyHandlingFromArgs(args, [], parseDuration);
  const keys = await readKeys(args);
  const result = await publishToDirectory({ ...options, keys, outDir: args["out-dir"], issuer: args.issuer });
  reportPublish(result, args);
}

// `publish --out-dir` as the entry point runs it without yargs (src/plain-commands.ts). The
// bundler makes this file a CommonJS chunk of its own, dist/bundle/publish-directory.cjs, that
// the entry point requires only for that command (scripts/bundle-cli.mjs): the publisher is too
// big to sit in the entry point, which every run of `keys` parses whole.
//
// The chunk carries its own copy of the packages it shares with the entry point (errors, keys),
// so it reports its own failures: an error of its copy of errors is not an instance of the
// entry point's.
import { parseDuration } from "@irsa-anywhere/publisher";
import { DEFAULT_TIMEOUT, startDeadline } from "./deadline-timer.js";
import { reportError } from "./failure.js";
import { type PublishArgs, runPublish } from "./publish-run.js";

/** Runs `publish` as its handler would after yargs, under the deadline --timeout gives by default. */
export function publishToDirectory(args: PublishArgs): void {
  const timeoutMs = parseDuration(DEFAULT_TIMEOUT);
  startDeadline(timeoutMs, DEFAULT_TIMEOUT);
  runPublish({ ...args, timeoutMs }).catch(reportError);
}

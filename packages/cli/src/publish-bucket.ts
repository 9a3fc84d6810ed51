// `publish --bucket` as the entry point runs it without yargs (src/plain-commands.ts). The bundler
// makes this file a CommonJS chunk of its own, dist/bundle/publish-bucket.cjs, that the entry point
// requires only for that command (scripts/bundle-cli.mjs): the full command line's yargs and ES
// module loader cost a scheduled publish about 60 ms before its first request (bench/publish.mjs
// --process), and a job runs it over and over. The AWS SDK stays external, loaded by name.
//
// Like publish-directory.ts, the chunk carries its own copy of the packages it shares with the
// entry point, so it reports its own failures.
import { parseDuration } from "@irsa-anywhere/publisher";
import { quietSdkNodeNotice } from "./aws-options.js";
import { DEFAULT_TIMEOUT, startDeadline } from "./deadline-timer.js";
import { reportError } from "./failure.js";
import { type PublishArgs, runPublish } from "./publish-run.js";

/** The arguments of the form the entry point runs here: a bucket, and where the keys come from. */
export interface BucketPublishArgs extends PublishArgs {
  bucket: string;
}

/**
 * Runs `publish --bucket` with the handler of the full command line (runPublish), under the
 * deadline --timeout gives by default.
 */
export function publishIntoBucket(args: BucketPublishArgs): void {
  quietSdkNodeNotice();
  const timeoutMs = parseDuration(DEFAULT_TIMEOUT);
  startDeadline(timeoutMs, DEFAULT_TIMEOUT);
  runPublish({ ...args, timeoutMs }).catch(reportError);
}

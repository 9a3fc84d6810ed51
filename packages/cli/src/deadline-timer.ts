// The deadline of a run, apart from the --timeout option that sets it (deadline.ts), so that the
// entry point's `publish --out-dir` chunk (publish-directory.ts) has it without the code yargs
// needs to report a bad --timeout.
import { EXIT_FAILURE } from "./exit-codes.js";
import { failWith } from "./failure.js";

/** What every command but serve gets unless --timeout says otherwise. */
export const DEFAULT_TIMEOUT = "5m";

/** After the deadline, a request's own timeout (set to the same length) gets this long to say more. */
const GRACE_MS = 1000;

/**
 * Ends the run with one line, exit 1, when it has not finished within `ms`, naming the AWS or
 * Kubernetes request it was waiting on when there is one. Each request also has its own timeout, no longer than this
 * one, so the message usually comes from the request itself; this is the bound on them all.
 */
export function startDeadline(ms: number, shown: string): void {
  const timer = setTimeout(async () => {
    const { requestsInFlight } = await import("@irsa-anywhere/errors");
    const waiting = requestsInFlight()[0];
    failWith(
      waiting
        ? `${waiting.service} at ${waiting.endpoint} did not answer ${waiting.operation} within --timeout ${shown}; check the network, any proxy (HTTPS_PROXY) and the endpoint${waiting.service === "the Kubernetes API" ? " (--kubeconfig, --context)" : " (--endpoint-url, AWS_ENDPOINT_URL)"}, or give a longer --timeout`
        : `the command did not finish within --timeout ${shown}; check the network and the cluster, or give a longer --timeout`,
      EXIT_FAILURE,
    );
  }, ms + GRACE_MS);
  // A run that finishes early must not wait for the timer.
  timer.unref();
}

import { EXIT_FAILURE } from "./exit-codes.js";
import { failWith } from "./failure.js";
import { usageFailure } from "./usage-failure.js";

/** What every command but serve gets unless --timeout says otherwise. */
export const DEFAULT_TIMEOUT = "5m";

/** --timeout, an option of every command. */
export const TIMEOUT_OPTION = {
  type: "string",
  default: DEFAULT_TIMEOUT,
  requiresArg: true,
  global: true,
  describe:
    "The longest the command may take, e.g. 90s or 5m; each AWS or Kubernetes request also waits at most 30s (not serve, which runs until stopped)",
} as const;

/** --timeout: a deadline for the whole run (serve runs until stopped), and each request's limit. */
export async function applyTimeout(args: {
  _: unknown[];
  timeout: string;
  timeoutMs?: number;
}): Promise<void> {
  const { parseDuration } = await import("@irsa-anywhere/publisher");
  const ms = parseDuration(args.timeout);
  if (!(ms >= 1) || !Number.isFinite(ms))
    usageFailure(`--timeout ${args.timeout} is too short; give one like 90s or 5m`);
  args.timeoutMs = ms;
  if (args._[0] !== "serve") startDeadline(ms, args.timeout);
}

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

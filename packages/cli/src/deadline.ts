import { DEFAULT_TIMEOUT, startDeadline } from "./deadline-timer.js";
import { usageFailure } from "./usage-failure.js";

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

import { ServeError } from "../errors.js";

/** @internal Node's timers hold at most 2^31 - 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * @internal A delay Node's timers can hold: past 2^31 - 1 ms, Node fires after 1 ms instead, and
 * prints a TimeoutOverflowWarning on stderr, into a log meant to hold JSON lines only.
 *
 * @throws {ServeError} `ERR_DURATION_OUT_OF_RANGE`.
 */
export function timerDuration(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new ServeError(
      "ERR_DURATION_OUT_OF_RANGE",
      `${name} must be from 0 to ${MAX_TIMER_MS} ms (Node's longest timer), not ${ms}`,
    );
  }
  return ms;
}

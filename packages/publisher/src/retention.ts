import { quoteInput } from "@irsa-anywhere/errors";
import { PublishError } from "./errors.js";

/**
 * The default time a key stays published after it left the cluster, and why:
 * - 24 h: the longest lifetime of a projected service-account token as the pod identity webhook
 *   issues them (`eks.amazonaws.com/token-expiration` defaults to 86400 s); a token signed the
 *   moment before the key left stays valid that long;
 * - 5 min: the `Cache-Control` max-age of the documents, for a cache that fetched just before;
 * - 1 h: margin for clock skew between cluster, publisher and AWS, and for STS's own JWKS cache.
 */
export const DEFAULT_RETAIN_MS = (24 * 60 + 5 + 60) * 60_000;

/** From this many keys on, every publish warns, long before the ceiling. */
export const WARN_JWKS_KEYS = 80;

/** How stale `lastSeenInCluster` may get before a publish refreshes it (and so writes the state). */
export const LAST_SEEN_REFRESH_MS = 6 * 3_600_000;

/**
 * Parses a duration into milliseconds: `90m`, `26h`, `2d`, `3600s`, compound ones such as
 * `25h5m`, `1d2h` or `1h30m` (the parts add up), or plain seconds (`3600`).
 *
 * @example
 * parseDuration("25h5m"); // 90_300_000
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const bare = /^\d+(?:\.\d+)?$/.test(trimmed);
  if (!bare && !/^(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+$/.test(trimmed)) {
    throw new PublishError(
      "ERR_DURATION_INVALID",
      `${quoteInput(text)} is not a duration; write it like 26h, 90m, 2d or 25h5m`,
    );
  }
  if (bare) return Number(trimmed) * 1000;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g)) {
    total += Number(amount) * (units[unit as string] ?? 1000);
  }
  return total;
}

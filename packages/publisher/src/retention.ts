import { quoteInput } from "@irsa-anywhere/keys";
import { PublishError } from "./errors.js";

/** What the publisher remembers of one published key. Kept beside the documents, never public. */
export interface KeyRecord {
  /** When the key was first published. */
  firstPublished: string;
  /** The last publish that found the key among the cluster's keys. */
  lastSeenInCluster?: string;
  /**
   * The first publish that found the key gone from the cluster: it signed nothing after this,
   * so tokens it signed expire at the latest one token lifetime later. Unset while in the cluster.
   */
  retiredAt?: string;
  /** Published ahead of a rotation (`rotate prepare`); the cluster does not have it yet, and it is never retired for that. */
  pending?: boolean;
}

/** A rotation in progress, recorded by `rotate prepare` and completed by `rotate confirm`. */
export interface RotationRecord {
  /** The kid that signed when the rotation was prepared. */
  from: string;
  /** The kid(s) published ahead to sign next. */
  to: string[];
  preparedAt: string;
  /** When the cluster was seen signing with a `to` key. */
  confirmedAt?: string;
}

export interface PublisherState {
  version: 1;
  keys: Record<string, KeyRecord>;
  rotation?: RotationRecord;
}

/**
 * The default time a key stays published after it left the cluster, and why:
 * - 24 h: the longest lifetime of a projected service-account token as the pod identity webhook
 *   issues them (`eks.amazonaws.com/token-expiration` defaults to 86400 s); a token signed the
 *   moment before the key left stays valid that long;
 * - 5 min: the `Cache-Control` max-age of the documents, for a cache that fetched just before;
 * - 1 h: margin for clock skew between cluster, publisher and AWS, and for STS's own JWKS cache.
 */
export const DEFAULT_RETAIN_MS = (24 * 60 + 5 + 60) * 60_000;

/** STS is reported to refuse a JWKS of more than 100 keys; the publisher never writes one. */
export const MAX_JWKS_KEYS = 100;
/** From this many keys on, every publish warns, long before the ceiling. */
export const WARN_JWKS_KEYS = 80;

/** How stale `lastSeenInCluster` may get before a publish refreshes it (and so writes the state). */
export const LAST_SEEN_REFRESH_MS = 6 * 3_600_000;

export function emptyState(): PublisherState {
  return { version: 1, keys: {} };
}

/** Reads the state document; a missing one is an empty state. */
export function parseState(body: string | undefined, origin: string): PublisherState {
  if (body === undefined) return emptyState();
  try {
    const state = JSON.parse(body) as PublisherState;
    if (state.version === 1 && typeof state.keys === "object" && state.keys !== null) return state;
  } catch {
    // reported below
  }
  throw new PublishError(
    "ERR_PUBLISHED_DOCUMENT_INVALID",
    `${origin} is not a state document of this tool; remove it (the publisher rebuilds it, conservatively) or fix it`,
  );
}

export function serializeState(state: PublisherState): string {
  const keys = Object.fromEntries(Object.entries(state.keys).sort(([a], [b]) => a.localeCompare(b)));
  return `${JSON.stringify({ version: 1, keys, ...(state.rotation ? { rotation: state.rotation } : {}) }, null, 2)}\n`;
}

export interface RetentionInput {
  /** Kids published now, in order (not the empty-kid twin). */
  published: readonly string[];
  /** Kids the cluster has now. */
  cluster: readonly string[];
  /** Kids to publish ahead of a rotation. */
  pending?: readonly string[];
  /**
   * Kids published ahead of a rotation that was given up: they retire now and go after the
   * retention like any other, in case the API server signed with them meanwhile.
   */
  withdrawn?: readonly string[];
  state: PublisherState;
  now: Date;
  retainMs: number;
}

export interface RetentionDecision {
  state: PublisherState;
  /** Kids to keep publishing, in the order of `published` then new ones. */
  keep: string[];
  /** Kids whose retention has run out, to remove. */
  prune: string[];
  /** Retired kids still within their retention, with the time they may go. */
  waiting: Array<{ kid: string; retiredAt: string; removableAt: string }>;
  /** Kids that were pending and that the cluster now has: a rotation's switch, seen. */
  promoted: string[];
}

/**
 * Decides, per key, whether it stays published. A key the cluster has, or one published ahead of
 * a rotation, always stays; a key gone from the cluster stays until `retainMs` has passed since
 * the first publish that found it gone. A key published before any state was kept (by hand, or
 * by an older version) starts that clock now. The only key is never pruned.
 */
export function decideRetention(input: RetentionInput): RetentionDecision {
  const now = input.now.toISOString();
  const cluster = new Set(input.cluster);
  const pending = new Set(input.pending ?? []);
  const withdrawn = new Set(input.withdrawn ?? []);
  const keys: Record<string, KeyRecord> = {};
  const all = [...new Set([...input.published, ...input.cluster, ...pending])];
  const keep: string[] = [];
  const prune: string[] = [];
  const waiting: RetentionDecision["waiting"] = [];
  const promoted: string[] = [];
  for (const kid of all) {
    const before = input.state.keys[kid];
    const record: KeyRecord = { firstPublished: before?.firstPublished ?? now };
    if (cluster.has(kid)) {
      if (before?.pending) promoted.push(kid);
      // Refreshed only every few hours, so that republishing an unchanged cluster writes nothing.
      const seen = before?.lastSeenInCluster;
      const stale = !seen || input.now.getTime() - Date.parse(seen) >= LAST_SEEN_REFRESH_MS;
      record.lastSeenInCluster = stale ? now : seen;
    } else {
      if (before?.lastSeenInCluster) record.lastSeenInCluster = before.lastSeenInCluster;
      if (pending.has(kid) || (before?.pending && !before.retiredAt && !withdrawn.has(kid))) {
        record.pending = true;
      } else {
        record.retiredAt = before?.retiredAt ?? now;
      }
    }
    if (record.retiredAt) {
      const removableAt = new Date(Date.parse(record.retiredAt) + input.retainMs);
      if (removableAt <= input.now) {
        prune.push(kid);
        continue;
      }
      waiting.push({ kid, retiredAt: record.retiredAt, removableAt: removableAt.toISOString() });
    }
    keys[kid] = record;
    keep.push(kid);
  }
  if (keep.length === 0 && prune.length > 0) {
    // Never leave the issuer without a key, whatever the clock says.
    const last = prune.pop() as string;
    keep.push(last);
    keys[last] = { ...(input.state.keys[last] ?? { firstPublished: now }) };
  }
  const state: PublisherState = { version: 1, keys };
  if (input.state.rotation) state.rotation = input.state.rotation;
  return { state, keep, prune, waiting, promoted };
}

/**
 * Parses a duration into milliseconds: `90m`, `26h`, `2d`, `3600s`, compound ones such as
 * `25h5m`, `1d2h` or `1h30m` (the parts add up), or plain seconds (`3600`).
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

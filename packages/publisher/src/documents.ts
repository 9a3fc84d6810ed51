import { openIdConfiguration, serializeOpenIdConfiguration } from "@irsa-anywhere/discovery";
import {
  buildJwks,
  currentSigningKey,
  distinctKeys,
  KeysError,
  type PublicSigningKey,
  parseJwks,
  serializeJwks,
} from "@irsa-anywhere/keys";
import { PublishError } from "./errors.js";
import {
  decideRetention,
  MAX_JWKS_KEYS,
  type PublisherState,
  type RetentionDecision,
  type RotationRecord,
  serializeState,
  WARN_JWKS_KEYS,
} from "./retention.js";

/** What the published key set becomes, and why. */
export interface MergedKeys {
  /** The kid the cluster signs with now; it gets the empty-kid twin. */
  current: string;
  /** Every kid in the new `keys.json`, in order (the twin not counted). */
  published: string[];
  /** Kids not published before. */
  added: string[];
  /** Kids published before that the cluster no longer has, kept until tokens they signed expire. */
  retained: string[];
  /** Kids published ahead of a rotation, which the cluster does not have yet. */
  pending: string[];
  /** Kids removed now: gone from the cluster for longer than the retention time. */
  pruned: string[];
  /** Retired kids and when each may be removed. */
  waiting: RetentionDecision["waiting"];
  /** Kids that were pending and that the cluster now has. */
  promoted: string[];
  warnings: string[];
  body: string;
  state: PublisherState;
  stateBody: string;
}

export interface MergeOptions {
  origin: string;
  emptyKidTwin: boolean;
  state: PublisherState;
  now: Date;
  retainMs: number;
  /** Keys to publish ahead of a rotation. */
  pending?: readonly PublicSigningKey[];
  /** Kids published ahead whose rotation was given up (see `RetentionInput.withdrawn`). */
  withdrawn?: readonly string[];
  /** Record (or, with `null`, clear) the rotation in progress; left as it is when undefined. */
  rotation?: RotationRecord | null;
}

/**
 * Merges the cluster's keys into the published `keys.json`: the cluster's keys first, then keys
 * published ahead of a rotation, then earlier keys still within their retention. The current key
 * (`currentSigningKey`'s) gets the empty-kid twin.
 *
 * @throws {PublishError} `ERR_TOO_MANY_KEYS` rather than write a JWKS STS would refuse.
 */
export function mergeKeys(
  clusterKeys: readonly PublicSigningKey[],
  publishedBody: string | undefined,
  options: MergeOptions,
): MergedKeys {
  const cluster = distinctKeys(clusterKeys);
  const current = currentSigningKey(cluster);
  const pending = distinctKeys(options.pending ?? []);
  const published = publishedBody === undefined ? [] : parsePublished(publishedBody, options.origin);
  const byKid = new Map<string, PublicSigningKey>();
  for (const key of distinctKeys([...cluster, ...pending, ...published])) byKid.set(key.kid, key);
  const decision = decideRetention({
    published: published.map((key) => key.kid),
    cluster: cluster.map((key) => key.kid),
    pending: pending.map((key) => key.kid),
    ...(options.withdrawn ? { withdrawn: options.withdrawn } : {}),
    state: options.state,
    now: options.now,
    retainMs: options.retainMs,
  });
  const keep = new Set(decision.keep);
  const clusterKids = new Set(cluster.map((key) => key.kid));
  const order = [
    ...cluster.map((key) => key.kid),
    ...pending.map((key) => key.kid),
    ...published.map((key) => key.kid),
  ];
  const kids = [...new Set(order)].filter((kid) => keep.has(kid));
  // Pending: asked for now, or recorded so by an earlier `rotate prepare`, and not in the cluster yet.
  const pendingKids = kids.filter((kid) => decision.state.keys[kid]?.pending === true);
  const entries = kids.length + (options.emptyKidTwin ? 1 : 0);
  const waiting = [...decision.waiting].sort((a, b) => a.retiredAt.localeCompare(b.retiredAt));
  if (entries > MAX_JWKS_KEYS) {
    throw new PublishError(
      "ERR_TOO_MANY_KEYS",
      `the JWKS would hold ${entries} keys and STS is known to refuse more than ${MAX_JWKS_KEYS}; nothing was written. Keys that could go (oldest retired first): ${waiting
        .slice(0, entries - MAX_JWKS_KEYS)
        .map((w) => w.kid)
        .join(", ")}; publish with a shorter --retain`,
    );
  }
  const warnings =
    entries >= WARN_JWKS_KEYS
      ? [
          `the JWKS holds ${entries} keys; STS refuses more than ${MAX_JWKS_KEYS}. Oldest retired keys: ${waiting
            .slice(0, 5)
            .map((w) => `${w.kid} (may go at ${w.removableAt})`)
            .join(", ")}`,
        ]
      : [];
  const jwks = buildJwks(
    kids.map((kid) => byKid.get(kid) as PublicSigningKey),
    { emptyKidTwin: options.emptyKidTwin, currentKid: current.kid },
  );
  const state = withRotation(decision.state, options.rotation);
  const publishedKids = new Set(published.map((key) => key.kid));
  return {
    current: current.kid,
    published: kids,
    added: kids.filter((kid) => !publishedKids.has(kid)),
    retained: kids.filter((kid) => !clusterKids.has(kid) && !pendingKids.includes(kid)),
    pending: pendingKids,
    pruned: decision.prune,
    waiting,
    promoted: decision.promoted,
    warnings,
    body: serializeJwks(jwks),
    state,
    stateBody: serializeState(state),
  };
}

/** Applies a rotation record, keeping the stored one's times when it is the same rotation again. */
function withRotation(state: PublisherState, rotation: RotationRecord | null | undefined): PublisherState {
  if (rotation === undefined) return state;
  const { rotation: stored, ...rest } = state;
  if (rotation === null) return rest;
  const same = stored && stored.from === rotation.from && stored.to.join() === rotation.to.join();
  return {
    ...rest,
    rotation: same
      ? {
          ...rotation,
          preparedAt: stored.preparedAt,
          ...(stored.confirmedAt && !rotation.confirmedAt ? { confirmedAt: stored.confirmedAt } : {}),
        }
      : rotation,
  };
}

function parsePublished(body: string, origin: string): PublicSigningKey[] {
  try {
    return parseJwks(body, origin).keys;
  } catch (error) {
    if (error instanceof KeysError) {
      throw new PublishError(
        "ERR_PUBLISHED_DOCUMENT_INVALID",
        `the published ${error.message}; fix or remove it before publishing, so that no key it holds is lost`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** The discovery document's bytes for an issuer and the algorithms of its published keys. */
export function discoveryBody(issuer: string, keys: readonly PublicSigningKey[]): string {
  return serializeOpenIdConfiguration(
    openIdConfiguration({ issuer, algorithms: keys.map((key) => key.alg) }),
  );
}

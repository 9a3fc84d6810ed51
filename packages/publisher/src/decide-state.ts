import { MAX_JWKS_KEYS } from "@irsa-anywhere/iam";
import {
  currentSigningKey,
  distinctKeys,
  jwkFromPublicKey,
  type PublicSigningKey,
} from "@irsa-anywhere/keys";
import { PublishError } from "./errors.js";
import { LAST_SEEN_REFRESH_MS, WARN_JWKS_KEYS } from "./retention.js";
import type { KeyRecord, PublisherState, RotationRecord } from "./state.js";

/**
 * A rotation phase, decided together with the publish, on the state it reads: its precondition
 * is checked inside the same compare-and-swap, never in a separate dry run.
 */
export type RotationStep =
  /** Publish `nextKeys` ahead, and record the rotation; refused while another one is open. */
  | { phase: "prepare"; nextKeys: readonly PublicSigningKey[] }
  /** Record that the cluster signs with the key prepared (its signing key is the one read from a private key). */
  | { phase: "confirm" }
  /** Give up the open rotation: its keys retire now. */
  | { phase: "withdraw" }
  /** Remove what the retention allows, and close a confirmed rotation once nothing waits. */
  | { phase: "prune" };

export interface StateInput {
  /** The cluster's keys now. */
  cluster: readonly PublicSigningKey[];
  emptyKidTwin: boolean;
  now: Date;
  retainMs: number;
  step?: RotationStep | undefined;
}

export interface StateDecision {
  state: PublisherState;
  /** The kid the cluster signs with now; it gets the empty-kid twin. */
  current: string;
  /** Kids published now, in order (the twin not counted). */
  published: string[];
  /** Kids not published before. */
  added: string[];
  /** Kids published before that the cluster no longer has, kept until tokens they signed expire. */
  retained: string[];
  /** Kids published ahead of a rotation, which the cluster does not have yet. */
  pending: string[];
  /** Kids removed now: gone from the cluster for longer than the retention. */
  pruned: string[];
  /** Retired kids still within their retention, and when each may go (oldest first). */
  waiting: Array<{ kid: string; retiredAt: string; removableAt: string }>;
  /** Kids the open rotation prepared and that the cluster now has. */
  promoted: string[];
  /** The rotation that was open before this step and that it confirmed, withdrew or closed. */
  rotationChange?: { confirmed?: RotationRecord; withdrawn?: RotationRecord; closed?: RotationRecord };
  warnings: string[];
}

/** The kids an open (unconfirmed) rotation publishes ahead. A key is pending only so. */
export function pendingKids(state: PublisherState): string[] {
  return state.rotation && !state.rotation.confirmedAt ? state.rotation.to : [];
}

/**
 * Decides the next state from the one read, the cluster's keys and a rotation phase: which keys
 * are published, which retire and which go. Pure; the caller writes the result conditionally on
 * the state it read and decides again on a conflict.
 *
 * - The cluster's keys are always published; so are the keys of an open rotation, which never retire.
 * - Any other key retires at the first decision that finds it so, and goes `retainMs` later.
 * - The only key is never removed.
 *
 * @throws {PublishError} `ERR_ROTATION_PRECONDITION` when the phase's precondition does not hold
 *   on this state; `ERR_TOO_MANY_KEYS` rather than publish a JWKS STS would refuse.
 */
export function decideState(before: PublisherState, input: StateInput): StateDecision {
  const now = input.now.toISOString();
  const cluster = distinctKeys(input.cluster);
  const current = currentSigningKey(cluster);
  const clusterKids = new Set(cluster.map((key) => key.kid));
  const keys: Record<string, KeyRecord> = { ...before.keys };
  for (const key of cluster) keys[key.kid] ??= { jwk: jwkFromPublicKey(key), firstPublished: now };
  let rotation = before.rotation;
  const rotationChange: NonNullable<StateDecision["rotationChange"]> = {};
  const step = input.step;
  const open = rotation && !rotation.confirmedAt ? rotation : undefined;

  if (step?.phase === "prepare") {
    const next = distinctKeys(step.nextKeys);
    const to = next.map((key) => key.kid);
    if (open && open.to.join() !== to.join()) {
      throw new PublishError(
        "ERR_ROTATION_PRECONDITION",
        `a rotation to ${open.to.join(", ")} is already prepared (since ${open.preparedAt}); finish it with rotate confirm, or give it up with rotate withdraw before preparing another`,
      );
    }
    for (const key of next) {
      const record = keys[key.kid];
      // Published ahead: whatever happened to it before, it is about to sign.
      keys[key.kid] = record
        ? withoutRetirement(record)
        : { jwk: jwkFromPublicKey(key), firstPublished: now };
    }
    rotation = open ?? { from: current.kid, to, preparedAt: now };
  } else if (step?.phase === "confirm") {
    const signing = cluster.find((key) => key.fromPrivateKey);
    if (!signing) {
      throw new PublishError(
        "ERR_ROTATION_PRECONDITION",
        "public keys alone do not tell which key the cluster signs with; read its key secret (--cluster NAME, or --secret-file with tls.key)",
      );
    }
    if (!before.published.includes(signing.kid)) {
      throw new PublishError(
        "ERR_ROTATION_PRECONDITION",
        `the cluster signs with ${signing.kid}, which was never published: STS rejects its tokens until it is; run irsa-anywhere publish now`,
      );
    }
    if (open && !open.to.includes(signing.kid)) {
      throw new PublishError(
        "ERR_ROTATION_PRECONDITION",
        signing.kid === open.from
          ? `the cluster still signs with ${signing.kid}, not with ${open.to.join(", ")}; switch the API server's --service-account-signing-key-file first (README: Rotating the signing key)`
          : `the cluster signs with ${signing.kid}, neither the old key ${open.from} nor the one prepared (${open.to.join(", ")}); check the API server's flags`,
      );
    }
    if (open) {
      rotation = { ...open, confirmedAt: now };
      rotationChange.confirmed = rotation;
    }
  } else if (step?.phase === "withdraw") {
    if (!open) {
      throw new PublishError(
        "ERR_ROTATION_PRECONDITION",
        rotation
          ? "the switch to the next key was confirmed; there is nothing to withdraw (rotate prune removes the old key in time)"
          : "no rotation is prepared; nothing to withdraw",
      );
    }
    const adopted = open.to.filter((kid) => clusterKids.has(kid));
    if (adopted.length > 0) {
      throw new PublishError(
        "ERR_ROTATION_PRECONDITION",
        `the cluster already has ${adopted.join(", ")}: the switch happened; run rotate confirm instead`,
      );
    }
    rotation = undefined;
    rotationChange.withdrawn = open;
  }

  const pending = new Set(rotation && !rotation.confirmedAt ? rotation.to : []);
  const order = [
    ...cluster.map((key) => key.kid),
    ...[...pending].filter((kid) => keys[kid]),
    ...before.published,
    ...Object.keys(keys).sort(),
  ];
  const published: string[] = [];
  const pruned: string[] = [];
  const waiting: StateDecision["waiting"] = [];
  for (const kid of new Set(order)) {
    const record = keys[kid] as KeyRecord;
    let next: KeyRecord = { ...record, firstPublished: record.firstPublished || now };
    if (clusterKids.has(kid)) {
      next = withoutRetirement(next);
      // Refreshed only every few hours, so that republishing an unchanged cluster writes nothing.
      const seen = next.lastSeenInCluster;
      if (!seen || input.now.getTime() - Date.parse(seen) >= LAST_SEEN_REFRESH_MS)
        next.lastSeenInCluster = now;
    } else if (pending.has(kid)) {
      next = withoutRetirement(next);
    } else {
      next.retiredAt ??= now;
      const removableAt = new Date(Date.parse(next.retiredAt) + input.retainMs);
      if (removableAt <= input.now) {
        pruned.push(kid);
        continue;
      }
      waiting.push({ kid, retiredAt: next.retiredAt, removableAt: removableAt.toISOString() });
    }
    keys[kid] = next;
    published.push(kid);
  }
  for (const kid of pruned) delete keys[kid];
  if (published.length === 0 && pruned.length > 0) {
    // Never leave the issuer without a key, whatever the clock says.
    const last = pruned.pop() as string;
    keys[last] = before.keys[last] as KeyRecord;
    published.push(last);
  }
  waiting.sort((a, b) => a.retiredAt.localeCompare(b.retiredAt));

  if (step?.phase === "prune" && rotation?.confirmedAt && waiting.length === 0) {
    rotationChange.closed = rotation;
    rotation = undefined;
  }

  const entries = published.length + (input.emptyKidTwin ? 1 : 0);
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

  const state: PublisherState = {
    version: 2,
    generation: before.generation,
    published,
    ...(input.emptyKidTwin ? { twin: current.kid } : {}),
    keys,
    ...(rotation ? { rotation } : {}),
    ...(before.oidcProviderArn === undefined ? {} : { oidcProviderArn: before.oidcProviderArn }),
    ...(before.servedAt === undefined ? {} : { servedAt: before.servedAt }),
  };
  const publishedBefore = new Set(before.published);
  const promoted = (open?.to ?? []).filter((kid) => clusterKids.has(kid));
  return {
    state,
    current: current.kid,
    published,
    added: published.filter((kid) => !publishedBefore.has(kid)),
    retained: published.filter((kid) => !clusterKids.has(kid) && !pending.has(kid)),
    pending: published.filter((kid) => pending.has(kid) && !clusterKids.has(kid)),
    pruned,
    waiting,
    promoted,
    ...(Object.keys(rotationChange).length > 0 ? { rotationChange } : {}),
    warnings,
  };
}

function withoutRetirement(record: KeyRecord): KeyRecord {
  const { retiredAt: _retired, ...rest } = record;
  return rest;
}

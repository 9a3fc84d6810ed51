import { currentSigningKey, distinctKeys, type PublicSigningKey } from "@irsa-anywhere/keys";
import { PublishError } from "./errors.js";
import { type PublishOptions, type PublishResult, publish } from "./publish.js";
import { DOCUMENT_CACHE_CONTROL } from "./publish-documents.js";

/** Where a cluster's key rotation stands, as `rotate status` reports it. */
export type RotationStage =
  /** One key, nothing in progress. */
  | "steady"
  /** A next key is published ahead; the API server does not sign with it yet. */
  | "prepared"
  /** The API server still verifies with an old key besides the signing one. */
  | "switched"
  /** An old key has left the cluster and stays published until tokens it signed expire. */
  | "retiring";

/** Where a key rotation stands after a rotation step: the stage, the keys, and what to do next. */
export interface RotationReport {
  stage: RotationStage;
  /** One line: where the cluster is. */
  summary: string;
  /** One line: what to do next. */
  next: string;
  /** The publish this phase ran (a dry run for `status`). */
  publish: PublishResult;
  /**
   * `rotate prune` only: what it did. `pruned`: keys were removed; `nothing-yet`: retired keys
   * wait for their retention (see `removableAt`); `nothing-to-remove`: no key has retired.
   * None of them is a failure, so a scheduled prune alerts only when something is wrong.
   */
  outcome?: PruneOutcome;
  /** With `nothing-yet`: the earliest time a retired key may be removed. */
  removableAt?: string;
}

/** What `pruneRotation` did: removed keys, waits for their retention, or had nothing to remove. */
export type PruneOutcome = "pruned" | "nothing-yet" | "nothing-to-remove";

const cacheMinutes = Number(/max-age=(\d+)/.exec(DOCUMENT_CACHE_CONTROL)?.[1] ?? 300) / 60;

/**
 * Phase 1: publishes the next signing key beside the current one, before the API server signs
 * with it, so that STS knows it before the first token it signs exists, and records the rotation.
 * Safe to re-run. Of several runs with different next keys at once, exactly one succeeds.
 *
 * @throws {PublishError} `ERR_ROTATION_PRECONDITION` when the next key is the current one, or a
 *   rotation to another key is open.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const options = { keys, bucket: "my-oidc", prefix: "prod" };
 * const nextKeys = publicKeysFromPem(await readFile("sa-next.pub", "utf8"), "sa-next.pub");
 * console.log((await prepareRotation({ ...options, nextKeys })).summary);
 */
export async function prepareRotation(
  options: PublishOptions & { nextKeys: readonly PublicSigningKey[] },
): Promise<RotationReport> {
  const { nextKeys, ...publishOptions } = options;
  const next = distinctKeys(nextKeys);
  const current = currentSigningKey(distinctKeys(options.keys));
  if (next.some((key) => key.kid === current.kid)) {
    throw new PublishError(
      "ERR_ROTATION_PRECONDITION",
      `the cluster already signs with ${current.kid}; give the new key as --next-key (make one with irsa-anywhere keygen)`,
    );
  }
  const to = next.map((key) => key.kid);
  const result = await publish({ ...publishOptions, rotation: { phase: "prepare", nextKeys: next } });
  return {
    stage: "prepared",
    summary: `next key ${to.join(", ")} is published beside ${current.kid}${options.dryRun ? " (dry run)" : ""}`,
    next: `wait ${cacheMinutes} minutes (the documents' cache time), make the API server sign with the new key while it still verifies the old one, then run rotate confirm`,
    publish: result,
  };
}

/**
 * Phase 2: confirms from the cluster that the key published ahead now signs, and records it.
 * Safe to re-run.
 *
 * @throws {PublishError} `ERR_ROTATION_PRECONDITION` when the cluster still signs with the old
 *   key, signs with a key that was never published, or no private key tells which key signs.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const options = { keys, bucket: "my-oidc", prefix: "prod" };
 * console.log((await confirmRotation(options)).summary);
 */
export async function confirmRotation(options: PublishOptions): Promise<RotationReport> {
  const result = await publish({ ...options, rotation: { phase: "confirm" } });
  const signing = result.keys.current;
  const switching = result.rotationChange?.confirmed !== undefined;
  const old = distinctKeys(options.keys)
    .filter((key) => key.kid !== signing)
    .map((key) => key.kid);
  return {
    stage: old.length > 0 ? "switched" : "retiring",
    summary: switching
      ? `the cluster signs with ${signing}, published ahead: the switch is confirmed${options.dryRun ? " (dry run)" : ""}`
      : `the cluster signs with ${signing}, already published; no switch was waiting to be confirmed`,
    next:
      old.length > 0
        ? `remove ${old.join(", ")} from the API server's --service-account-key-file; its retention starts when it is gone, then run rotate prune`
        : (describeWaiting(result) ?? "nothing more to do"),
    publish: result,
  };
}

/**
 * Phase 3: removes keys whose retention has passed since they left the cluster, and closes a
 * confirmed rotation once no key waits. Safe to re-run. Waiting for the retention is not a
 * failure: the report's `outcome` is `nothing-yet` and `removableAt` says when a key may go.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const options = { keys, bucket: "my-oidc", prefix: "prod" };
 * console.log((await pruneRotation(options)).removableAt);
 */
export async function pruneRotation(options: PublishOptions): Promise<RotationReport> {
  // A publish, not a plan: the first run that sees a key gone records when, so the retention
  // counts from then even when no scheduled publish runs between the phases; and it removes
  // what is due. (With dryRun it only plans, as every phase does.)
  const result = await publish({ ...options, rotation: { phase: "prune" } });
  if (result.keys.pruned.length === 0 && result.keys.waiting.length > 0) {
    const removableAt = result.keys.waiting.map((w) => w.removableAt).sort()[0] as string;
    return {
      stage: "retiring",
      outcome: "nothing-yet",
      removableAt,
      summary: `nothing can be removed yet: ${describeWaiting(result)}; tokens they signed may still be in use`,
      next: `run rotate prune again after ${removableAt}`,
      publish: result,
    };
  }
  return {
    stage: "steady",
    outcome: result.keys.pruned.length > 0 ? "pruned" : "nothing-to-remove",
    summary:
      result.keys.pruned.length > 0
        ? `removed ${result.keys.pruned.join(", ")}${options.dryRun ? " (dry run)" : ""}`
        : "nothing to remove: no published key has left the cluster for longer than the retention",
    next: "nothing more to do; publish keeps running as usual",
    publish: result,
  };
}

/**
 * Gives up a prepared rotation whose next key will not be used (lost, or made by mistake): the key
 * retires now and is removed after the retention, like any key that left the cluster, since the
 * API server may have signed with it meanwhile; the rotation record is closed. Safe to re-run.
 *
 * @throws {PublishError} `ERR_ROTATION_PRECONDITION` when no rotation is prepared, or the
 *   cluster already has the next key (confirm it instead).
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const options = { keys, bucket: "my-oidc", prefix: "prod" };
 * console.log((await withdrawRotation(options)).summary);
 */
export async function withdrawRotation(options: PublishOptions): Promise<RotationReport> {
  const result = await publish({ ...options, rotation: { phase: "withdraw" } });
  const to = result.rotationChange?.withdrawn?.to ?? [];
  const waiting = result.keys.waiting.filter((w) => to.includes(w.kid));
  return {
    stage: "retiring",
    summary: `withdrew the rotation to ${to.join(", ")}${options.dryRun ? " (dry run)" : ""}`,
    next: waiting.length
      ? `it stays published until ${waiting.map((w) => w.removableAt).join(", ")} in case it signed anything, then publish or rotate prune removes it`
      : "nothing more to do",
    publish: result,
  };
}

/**
 * Where the rotation stands, from a dry run: nothing is written.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const options = { keys, bucket: "my-oidc", prefix: "prod" };
 * console.log((await rotationStatus(options)).stage);
 */
export async function rotationStatus(options: PublishOptions): Promise<RotationReport> {
  const plan = await publish({ ...options, dryRun: true });
  const cluster = distinctKeys(options.keys).map((key) => key.kid);
  const rotation = plan.rotation;
  if (rotation && !rotation.confirmedAt) {
    return {
      stage: "prepared",
      summary: `next key ${rotation.to.join(", ")} is published ahead (since ${rotation.preparedAt}); the cluster signs with ${rotation.from}`,
      next: "make the API server sign with the next key, then run rotate confirm",
      publish: plan,
    };
  }
  if (cluster.length > 1) {
    return {
      stage: "switched",
      summary: `the cluster verifies with ${cluster.join(", ")} and signs with ${plan.keys.current}`,
      next: "remove the old key from the API server's --service-account-key-file, then run rotate prune after the retention",
      publish: plan,
    };
  }
  if (plan.keys.waiting.length > 0) {
    return {
      stage: "retiring",
      summary: `the cluster signs with ${plan.keys.current}; ${describeWaiting(plan)}`,
      next: "run rotate prune after that time (publish also removes it by itself then)",
      publish: plan,
    };
  }
  return {
    stage: "steady",
    summary: `the cluster signs with ${plan.keys.current}; no rotation in progress`,
    next: "to rotate: irsa-anywhere keygen, then irsa-anywhere rotate prepare --next-key NEW.pub",
    publish: plan,
  };
}

function describeWaiting(result: PublishResult): string | undefined {
  if (result.keys.waiting.length === 0) return undefined;
  return result.keys.waiting
    .map((w) => `${w.kid} left the cluster at ${w.retiredAt} and may go at ${w.removableAt}`)
    .join("; ");
}

import { currentSigningKey, type PublicSigningKey } from "@irsa-anywhere/keys";
import { STS_ERRORS } from "../check.js";
import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass } from "../lib/outcome.js";
import { headerValue } from "./documents.js";
import type { PublishedKeys } from "./jwks.js";

/** @internal The key the cluster signs with now is in the JWKS, under its kid. */
export function judgeCurrentKeyPublished(
  keys: readonly PublicSigningKey[],
  published: PublishedKeys,
): Outcome {
  const current = currentSigningKey(keys);
  const found = published.named.get(current.kid);
  const details = { currentKid: current.kid, publishedKids: [...published.named.keys()] };
  if (found?.publicKey.equals(current.publicKey)) {
    return pass(`key ${current.kid} (from ${current.origin}) is published`, { details });
  }
  return fail(
    "ERR_JWKS_KEY_MISSING",
    `the cluster signs with key ${current.kid} (from ${current.origin}), which the JWKS does not hold: STS would reject every token the cluster issues`,
    "publish it: irsa-anywhere publish <the same key source> --bucket NAME (or --out-dir DIR); earlier keys stay published",
    { sts: STS_ERRORS.noKey, details },
  );
}

/**
 * @internal
 * Published keys that the cluster no longer has: harmless, and needed for a while after a
 * rotation (tokens signed before it stay valid up to a day). Their age is not published; what
 * is known is how long ago the JWKS last changed (its `Last-Modified`).
 */
export function judgeRetiredKeys(
  keys: readonly PublicSigningKey[],
  published: PublishedKeys,
  lastModified: string | undefined,
  now: Date,
): Outcome {
  const inCluster = new Set(keys.map((key) => key.kid));
  const retired = [...published.named.keys()].filter((kid) => !inCluster.has(kid));
  const changed = lastModified === undefined ? Number.NaN : Date.parse(lastModified);
  const ageMs = Number.isNaN(changed) ? undefined : Math.max(0, now.getTime() - changed);
  const details = {
    retiredKids: retired,
    ...(ageMs === undefined ? {} : { jwksLastModified: new Date(changed).toISOString(), jwksAgeMs: ageMs }),
  };
  if (retired.length === 0) return pass("every published key is one of the cluster's", { details });
  const age = ageMs === undefined ? "" : `; the JWKS last changed ${formatAge(ageMs)} ago`;
  return pass(
    `${retired.length} published key${retired.length === 1 ? " is" : "s are"} no longer in the cluster: ${retired.join(", ")}${age}. They keep tokens signed before a rotation valid, which matters for up to a day after it`,
    { details },
  );
}

/** @internal "45 s", "12 min", "5 h", "3 d". */
export function formatAge(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

export const clusterKeyPublishedCheck = defineCheck({
  id: "cluster-key-published",
  needs: ["hostPath", "keys", "jwks"],
  run: ({ keys, jwks }) => judgeCurrentKeyPublished(keys, jwks),
});

export const retiredKeysCheck = defineCheck({
  id: "retired-keys",
  needs: ["hostPath", "keys", "jwks", "jwksAnswer"],
  // Only informational: that the cluster's keys could not be read makes it a warning.
  informational: true,
  run: ({ keys, jwks, jwksAnswer }, env) =>
    judgeRetiredKeys(keys, jwks, headerValue(jwksAnswer.headers, "last-modified"), env.now),
});

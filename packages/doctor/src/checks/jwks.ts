import { quoteInput } from "@irsa-anywhere/errors";
import { MAX_JWKS_KEYS } from "@irsa-anywhere/iam";
import {
  currentSigningKey,
  kidForPublicKey,
  PRIVATE_JWK_MEMBERS,
  type PublicSigningKey,
  publicSigningKeyFromJwk,
} from "@irsa-anywhere/keys";
import { STS_ERRORS } from "../check.js";
import { defineCheck } from "../lib/check-model.js";
import { fail, type Outcome, pass, warn } from "../lib/outcome.js";

/** The JWS algorithms STS accepts in web identity tokens. */
export const STS_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"] as const;

/** STS is reported to read no more than this many keys of a JWKS. */

const curveOfAlgorithm: Record<string, string> = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };

/** @internal The published keys that STS could verify a token with. */
export interface PublishedKeys {
  /** Valid keys by the kid they are published under. */
  named: Map<string, PublicSigningKey>;
  /** Valid keys published with an empty (or no) kid. */
  emptyKid: PublicSigningKey[];
  /** The JWKs as published, for verifying a token the way STS does. */
  jwks: Record<string, unknown>[];
}

/**
 * @internal
 * Every key of the JWKS: an object, no private member, RSA or EC of a size and curve STS accepts,
 * an algorithm STS accepts that fits the key, `use` "sig" if given, and a kid equal to the one
 * kube-apiserver computes for the key (else tokens name a kid STS will not find).
 */
export function judgeJwks(body: string): { outcome: Outcome; published?: PublishedKeys } {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return {
      outcome: fail("ERR_JWKS_NOT_JSON", "the JWKS is not JSON", "republish it: irsa-anywhere publish", {
        sts: STS_ERRORS.noKey,
      }),
    };
  }
  const list = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) {
    return {
      outcome: fail(
        "ERR_JWKS_NOT_A_SET",
        'the JWKS is not {"keys": [...]}',
        "republish it: irsa-anywhere publish",
        {
          sts: STS_ERRORS.noKey,
        },
      ),
    };
  }
  if (list.length === 0) {
    return {
      outcome: fail(
        "ERR_JWKS_EMPTY",
        "the JWKS holds no key",
        "publish the cluster's key: irsa-anywhere publish <key source> ...",
        {
          sts: STS_ERRORS.noKey,
        },
      ),
    };
  }
  const published: PublishedKeys = { named: new Map(), emptyKid: [], jwks: [] };
  const problems: string[] = [];
  const cautions: string[] = [];
  let leaked = false;
  for (const [index, jwk] of list.entries()) {
    if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
      problems.push(`key ${index + 1} is not a JSON object`);
      continue;
    }
    const record = jwk as Record<string, unknown>;
    const kid = typeof record.kid === "string" ? record.kid : "";
    const name = kid === "" ? `key ${index + 1} (empty kid)` : `key ${quoteInput(kid)}`;
    const privateMembers = PRIVATE_JWK_MEMBERS.filter((member) => member in record);
    if (privateMembers.length > 0) {
      leaked = true;
      problems.push(`${name} carries private members (${privateMembers.join(", ")})`);
      continue;
    }
    let key: PublicSigningKey;
    try {
      key = publicSigningKeyFromJwk(record, "JWKS");
    } catch (error) {
      problems.push((error as Error).message.replace(/^JWKS( \(kid "[^"]*"\))?: /, ""));
      continue;
    }
    const alg = record.alg;
    if (alg === undefined) {
      cautions.push(`${name} names no "alg"`);
    } else if (typeof alg !== "string" || !(STS_ALGORITHMS as readonly string[]).includes(alg)) {
      problems.push(`${name} has alg ${quoteInput(alg)}; STS accepts ${STS_ALGORITHMS.join(", ")}`);
      continue;
    } else if (!algorithmFits(alg, record)) {
      problems.push(`${name} has alg ${alg}, which does not fit its ${String(record.kty)} key`);
      continue;
    }
    if (record.use !== undefined && record.use !== "sig") {
      problems.push(`${name} has use ${quoteInput(record.use)}; a signing key has use "sig"`);
      continue;
    }
    if (kid !== "") {
      const computed = kidForPublicKey(key.publicKey);
      if (computed !== kid) {
        problems.push(
          `${name} does not match its key: kube-apiserver names that key ${JSON.stringify(computed)}, and tokens carry that name`,
        );
        continue;
      }
      published.named.set(kid, key);
    } else {
      published.emptyKid.push(key);
    }
    published.jwks.push(record);
  }
  const counts = { keys: list.length, named: published.named.size, emptyKid: published.emptyKid.length };
  if (list.length > MAX_JWKS_KEYS) {
    problems.push(`it holds ${list.length} keys; STS is reported to read no more than ${MAX_JWKS_KEYS}`);
  }
  if (problems.length > 0) {
    return {
      outcome: fail(
        leaked ? "ERR_JWKS_PRIVATE_KEY" : "ERR_JWKS_KEY_INVALID",
        leaked
          ? `the JWKS publishes private key material: ${problems.join("; ")}`
          : `the JWKS has ${problems.length === 1 ? "a problem" : `${problems.length} problems`}: ${problems.join("; ")}`,
        leaked
          ? "the key is compromised: rotate the cluster's signing key now, then publish only public keys (irsa-anywhere publish never writes private members)"
          : "republish the cluster's public keys: irsa-anywhere publish <key source> ...",
        { sts: STS_ERRORS.noKey, details: { ...counts, problems } },
      ),
      published,
    };
  }
  if (cautions.length > 0) {
    return {
      outcome: warn(
        "WARN_JWKS_NO_ALG",
        cautions.join("; "),
        "republish with irsa-anywhere publish, which names each key's alg",
        {
          details: counts,
        },
      ),
      published,
    };
  }
  const algorithms = [...new Set([...published.named.values()].map((key) => String(jwkAlg(published, key))))];
  return {
    outcome: pass(
      `${published.named.size} key${published.named.size === 1 ? "" : "s"} (${algorithms.join(", ")}), each under the kid kube-apiserver computes${published.emptyKid.length ? ", and an empty-kid twin" : ""}`,
      { details: { ...counts, kids: [...published.named.keys()] } },
    ),
    published,
  };
}

/**
 * @internal
 * Tokens from clusters before Kubernetes 1.16 carry no kid, and STS matches them to the key
 * published with `kid: ""`; it should be the key the cluster signs with now.
 */
export function judgeEmptyKid(published: PublishedKeys, currentKid: string | undefined): Outcome {
  const fix = "republish with irsa-anywhere publish, which adds the twin (unless --no-empty-kid)";
  const twins = published.emptyKid;
  if (twins.length === 0) {
    return warn(
      "WARN_EMPTY_KID_MISSING",
      "no key is published with an empty kid, so tokens without a kid header (clusters before Kubernetes 1.16) cannot be verified",
      fix,
    );
  }
  if (twins.length > 1) {
    return warn(
      "WARN_EMPTY_KID_AMBIGUOUS",
      `${twins.length} keys are published with an empty kid; STS may pick any of them`,
      fix,
    );
  }
  const twin = twins[0] as PublicSigningKey;
  const twinKid = kidForPublicKey(twin.publicKey);
  const details = { twinOf: twinKid };
  if (currentKid !== undefined) {
    return twinKid === currentKid
      ? pass(`the empty-kid twin is the current key ${currentKid}`, { details })
      : warn(
          "WARN_EMPTY_KID_NOT_CURRENT",
          `the empty-kid twin is key ${twinKid}, not the current key ${currentKid}`,
          fix,
          { details },
        );
  }
  return published.named.has(twinKid)
    ? pass(`the empty-kid twin is key ${twinKid}`, { details })
    : warn(
        "WARN_EMPTY_KID_UNKNOWN",
        `the empty-kid key matches none of the named keys (it is ${twinKid})`,
        fix,
        { details },
      );
}

function algorithmFits(alg: string, jwk: Record<string, unknown>): boolean {
  if (alg.startsWith("RS")) return jwk.kty === "RSA";
  return jwk.kty === "EC" && jwk.crv === curveOfAlgorithm[alg];
}

function jwkAlg(published: PublishedKeys, key: PublicSigningKey): unknown {
  return published.jwks.find((jwk) => jwk.kid === key.kid)?.alg ?? key.alg;
}

export const jwksKeysCheck = defineCheck({
  id: "jwks-keys",
  needs: ["jwksAnswer"],
  provides: { jwks: { reason: "the JWKS could not be read", code: "SKIP_NO_JWKS" } },
  run: ({ jwksAnswer }) => {
    const { outcome, published } = judgeJwks(jwksAnswer.body);
    return published ? { ...outcome, facts: { jwks: published } } : outcome;
  },
});

export const jwksEmptyKidCheck = defineCheck({
  id: "jwks-empty-kid",
  needs: ["jwks"],
  uses: ["keys"],
  run: ({ jwks, keys }) => judgeEmptyKid(jwks, keys ? currentSigningKey(keys).kid : undefined),
});

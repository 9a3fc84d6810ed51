import { quoteInput } from "@irsa-anywhere/errors";
import { KeysError } from "./errors.js";
import { assertPublicJwk, jwkFromPublicKey, type PublicJwk, publicSigningKeyFromJwk } from "./jwk.js";
import type { PublicSigningKey } from "./signing-key.js";

/** A JSON Web Key Set as AWS STS reads it. */
export interface Jwks {
  keys: PublicJwk[];
}

export interface BuildJwksOptions {
  /**
   * Add a copy of the current key with `kid: ""`: tokens issued by clusters before
   * Kubernetes 1.16 carry no `kid` header, and STS matches them to this copy. Default `true`.
   */
  emptyKidTwin?: boolean;
  /** The kid of the key the cluster signs with now; default {@link currentSigningKey}'s. */
  currentKid?: string;
}

/**
 * Builds the JWKS for a set of keys: one entry per distinct key in the order given, then the
 * empty-kid twin of the current key. The same keys always give the same document.
 *
 * @throws {KeysError} `ERR_KID_CONFLICT` when two different keys claim one kid,
 *   `ERR_KEY_NOT_FOUND` when there is no key.
 *
 * @example
 * const jwks = buildJwks(publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub"));
 * await writeFile("keys.json", serializeJwks(jwks));
 */
export function buildJwks(keys: readonly PublicSigningKey[], options: BuildJwksOptions = {}): Jwks {
  const distinct = distinctKeys(keys);
  const currentKid = options.currentKid ?? currentSigningKey(distinct).kid;
  const jwks: Jwks = { keys: distinct.map((key) => jwkFromPublicKey(key)) };
  if (options.emptyKidTwin ?? true) {
    const current = distinct.find((key) => key.kid === currentKid);
    if (!current) {
      throw new KeysError("ERR_KEY_NOT_FOUND", `the current key ${currentKid} is not among the keys`);
    }
    jwks.keys.push(jwkFromPublicKey(current, ""));
  }
  for (const jwk of jwks.keys) assertPublicJwk(jwk);
  return jwks;
}

/**
 * The key a cluster signs with now: the first one read from a private key (only the signing key
 * is held privately), otherwise the first key given.
 *
 * @throws {KeysError} `ERR_KEY_NOT_FOUND` when there is no key.
 */
export function currentSigningKey(keys: readonly PublicSigningKey[]): PublicSigningKey {
  const current = keys.find((key) => key.fromPrivateKey) ?? keys[0];
  if (!current)
    throw new KeysError("ERR_KEY_NOT_FOUND", "no signing key was given; give at least one key source");
  return current;
}

/**
 * Drops repeats of one key (same kid, same key) and refuses two different keys under one kid.
 * Keys with an empty kid are refused: the empty-kid twin is derived, never carried over.
 */
export function distinctKeys(keys: readonly PublicSigningKey[]): PublicSigningKey[] {
  const byKid = new Map<string, PublicSigningKey>();
  for (const key of keys) {
    if (key.kid === "") {
      throw new KeysError(
        "ERR_JWKS_INVALID",
        `${key.origin}: a key has an empty kid; only the derived twin may`,
      );
    }
    const seen = byKid.get(key.kid);
    if (!seen) {
      byKid.set(key.kid, key);
    } else if (!seen.publicKey.equals(key.publicKey)) {
      throw new KeysError(
        "ERR_KID_CONFLICT",
        `two different keys claim kid ${quoteInput(key.kid)} (${seen.origin} and ${key.origin}); remove the one the cluster does not use`,
      );
    }
  }
  return [...byKid.values()];
}

/**
 * The bytes to publish: two-space indented JSON with a final newline. Checks again that no
 * private member is present, whatever built the object.
 */
export function serializeJwks(jwks: Jwks): string {
  for (const jwk of jwks.keys) assertPublicJwk(jwk);
  return `${JSON.stringify(jwks, null, 2)}\n`;
}

/** A JWKS read back: its named keys, and the keys published with an empty kid. */
export interface ParsedJwks {
  keys: PublicSigningKey[];
  emptyKidKeys: PublicSigningKey[];
}

/**
 * Reads a JWKS document (a published `keys.json` or an API server's `/openid/v1/jwks`).
 *
 * @throws {KeysError} `ERR_JWKS_INVALID` for anything but `{"keys": [...]}` of valid public keys,
 *   `ERR_JWK_PRIVATE_MEMBER` when a key carries private material.
 */
export function parseJwks(text: string, origin: string): ParsedJwks {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new KeysError(
      "ERR_JWKS_INVALID",
      `${origin}: not valid JSON; expected a JWKS like {"keys": [...]}`,
    );
  }
  const list = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) {
    throw new KeysError("ERR_JWKS_INVALID", `${origin}: expected a JWKS like {"keys": [...]}`);
  }
  const parsed: ParsedJwks = { keys: [], emptyKidKeys: [] };
  for (const jwk of list) {
    const key = publicSigningKeyFromJwk(jwk, origin);
    (key.kid === "" ? parsed.emptyKidKeys : parsed.keys).push(key);
  }
  distinctKeys(parsed.keys);
  return parsed;
}

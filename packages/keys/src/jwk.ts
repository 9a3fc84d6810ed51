import { createPublicKey, type JsonWebKey } from "node:crypto";
import { quoteInput } from "@irsa-anywhere/errors";
import { KeysError } from "./errors.js";
import {
  jwkCurveName,
  type PublicSigningKey,
  type SigningAlgorithm,
  toPublicSigningKey,
} from "./signing-key.js";

/** An RSA public JWK, members in the order kube-apiserver serves them. */
export interface RsaPublicJwk {
  use: "sig";
  kty: "RSA";
  kid: string;
  alg: "RS256";
  n: string;
  e: string;
}

/** An EC public JWK, members in the order kube-apiserver serves them. */
export interface EcPublicJwk {
  use: "sig";
  kty: "EC";
  kid: string;
  crv: "P-256" | "P-384" | "P-521";
  alg: Exclude<SigningAlgorithm, "RS256">;
  x: string;
  y: string;
}

export type PublicJwk = RsaPublicJwk | EcPublicJwk;

/** JWK members that carry private or symmetric key material; never published. */
export const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

/**
 * The JWK of a public key exactly as kube-apiserver serves it at `/openid/v1/jwks`.
 * Only public members are copied, so no private member can slip through.
 *
 * @param kid defaults to the key's own kid; pass `""` for the empty-kid twin.
 */
export function jwkFromPublicKey(key: PublicSigningKey, kid: string = key.kid): PublicJwk {
  const exported = key.publicKey.export({ format: "jwk" });
  if (key.alg === "RS256") {
    return { use: "sig", kty: "RSA", kid, alg: "RS256", n: need(exported.n), e: need(exported.e) };
  }
  const crv = jwkCurveName(key.publicKey) as EcPublicJwk["crv"];
  return {
    use: "sig",
    kty: "EC",
    kid,
    crv,
    alg: key.alg,
    x: need(exported.x),
    y: need(exported.y),
  };
}

function need(member: string | undefined): string {
  if (member === undefined) throw new Error("public key export is missing a JWK member");
  return member;
}

/**
 * Throws when a JWK carries any private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`).
 *
 * @throws {KeysError} `ERR_JWK_PRIVATE_MEMBER`, naming the kid and the members, never their values.
 */
export function assertPublicJwk(jwk: object, origin = "JWK"): void {
  const found = PRIVATE_JWK_MEMBERS.filter((member) => member in jwk);
  if (found.length > 0) {
    const kid = "kid" in jwk ? quoteInput(jwk.kid) : "(no kid)";
    throw new KeysError(
      "ERR_JWK_PRIVATE_MEMBER",
      `${origin}: the key ${kid} carries private members (${found.join(", ")}); a JWKS must hold public keys only, so rebuild it from the public key`,
    );
  }
}

/**
 * Reads a JWK from elsewhere (a published `keys.json`, the API server's JWKS) as a validated
 * public key. Its claimed `kid` is kept as given, since that is the name tokens carry.
 *
 * @throws {KeysError} `ERR_JWK_PRIVATE_MEMBER`, `ERR_JWKS_INVALID`, or the key validation codes.
 */
export function publicSigningKeyFromJwk(jwk: unknown, origin: string): PublicSigningKey {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
    throw new KeysError("ERR_JWKS_INVALID", `${origin}: a key is not a JSON object`);
  }
  assertPublicJwk(jwk, origin);
  const record = jwk as Record<string, unknown>;
  const kid = record.kid ?? "";
  if (typeof kid !== "string") {
    throw new KeysError("ERR_JWKS_INVALID", `${origin}: a key's "kid" is not a string`);
  }
  if (record.kty !== "RSA" && record.kty !== "EC") {
    throw new KeysError(
      "ERR_KEY_UNSUPPORTED",
      `${origin}: key ${quoteInput(kid)} has kty ${quoteInput(record.kty)}; AWS STS accepts RSA and EC keys only`,
    );
  }
  let publicKey: ReturnType<typeof createPublicKey>;
  try {
    publicKey = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
  } catch {
    throw new KeysError(
      "ERR_JWKS_INVALID",
      `${origin}: key ${quoteInput(kid)} is not a valid ${record.kty} public key`,
    );
  }
  return { ...toPublicSigningKey(publicKey, `${origin} (kid ${quoteInput(kid)})`), kid };
}

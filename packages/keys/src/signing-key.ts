import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { KeysError } from "./errors.js";

/** The JWS algorithms AWS STS accepts for web identity tokens. */
export type SigningAlgorithm = "RS256" | "ES256" | "ES384" | "ES512";

/** A validated public key that AWS STS can verify tokens with. Holds no private material. */
export interface PublicSigningKey {
  /** base64url (unpadded) SHA-256 of the PKIX DER public key, as kube-apiserver computes it. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** Always a public key object. */
  readonly publicKey: KeyObject;
  /** Where the key was read from, for messages (a file name and block, a secret field…). */
  readonly origin: string;
  /** The key was derived from a private key, so it is the one that signs. */
  readonly fromPrivateKey: boolean;
}

/** The smallest RSA modulus AWS STS accepts. */
export const MIN_RSA_BITS = 2048;

const curveAlgorithms: Record<string, SigningAlgorithm> = {
  prime256v1: "ES256",
  secp384r1: "ES384",
  secp521r1: "ES512",
};

const curveNames: Record<string, string> = {
  prime256v1: "P-256",
  secp384r1: "P-384",
  secp521r1: "P-521",
};

/**
 * The key ID kube-apiserver gives a key: base64url, unpadded, of the SHA-256 of its PKIX
 * (SubjectPublicKeyInfo) DER encoding.
 *
 * @example
 * kidForPublicKey(createPublicKey(await readFile("sa.pub", "utf8"))); // "Zt3pM3…"
 */
export function kidForPublicKey(key: KeyObject): string {
  return kidOfCanonicalKey(canonicalPublicKey(key));
}

function kidOfCanonicalKey(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64url");
}

/**
 * The public key encoded as kube-apiserver encodes it before hashing (Go's
 * `x509.MarshalPKIXPublicKey`): an EC point uncompressed, under the curve's name rather than
 * explicit parameters. Node keeps a key's DER as it was read, so a compressed or explicit-curve
 * `.pub` would otherwise hash to a kid no token carries. A JWK holds only the numbers, so the
 * round trip through one re-encodes the key the standard way.
 */
function canonicalPublicKey(key: KeyObject): KeyObject {
  const publicKey = key.type === "public" ? key : createPublicKey(key);
  try {
    return createPublicKey({ key: publicKey.export({ format: "jwk" }), format: "jwk" });
  } catch {
    // A type JWK cannot hold (DSA, RSA-PSS): not one STS takes, which algorithmFor says.
    return publicKey;
  }
}

/**
 * Checks that a key is one AWS STS accepts (RSA of 2048 bits or more, or ECDSA on P-256,
 * P-384 or P-521) and returns its public half with its kid and algorithm.
 *
 * @throws {KeysError} `ERR_KEY_TOO_SMALL` or `ERR_KEY_UNSUPPORTED`.
 */
export function toPublicSigningKey(key: KeyObject, origin: string): PublicSigningKey {
  const publicKey = canonicalPublicKey(key);
  const alg = algorithmFor(publicKey, origin);
  return {
    kid: kidOfCanonicalKey(publicKey),
    alg,
    publicKey,
    origin,
    fromPrivateKey: key.type === "private",
  };
}

function algorithmFor(key: KeyObject, origin: string): SigningAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new KeysError(
        "ERR_KEY_TOO_SMALL",
        `${origin}: the RSA key has ${bits} bits and AWS STS needs at least ${MIN_RSA_BITS}; give the cluster a new key of 2048 bits or more`,
      );
    }
    return "RS256";
  }
  if (type === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? "unknown";
    const alg = curveAlgorithms[curve];
    if (!alg) {
      throw new KeysError(
        "ERR_KEY_UNSUPPORTED",
        `${origin}: the EC key is on curve ${curve}, which AWS STS does not accept; use P-256, P-384 or P-521`,
      );
    }
    return alg;
  }
  throw new KeysError(
    "ERR_KEY_UNSUPPORTED",
    `${origin}: ${describeKeyType(type)} keys are not accepted by AWS STS; use an RSA key of 2048 bits or more, or an ECDSA key on P-256, P-384 or P-521`,
  );
}

function describeKeyType(type: string | undefined): string {
  switch (type) {
    case "ed25519":
      return "Ed25519";
    case "ed448":
      return "Ed448";
    case "rsa-pss":
      return "RSA-PSS";
    case undefined:
      return "these";
    default:
      return type.toUpperCase();
  }
}

/** @internal The JWK `crv` name of a Node curve name. */
export function jwkCurveName(key: KeyObject): string | undefined {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === undefined ? undefined : curveNames[curve];
}

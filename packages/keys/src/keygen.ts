import { generateKeyPairSync } from "node:crypto";
import { quoteInput } from "@irsa-anywhere/errors";
import { KeysError } from "./errors.js";
import { type PublicSigningKey, toPublicSigningKey } from "./signing-key.js";

/** The key types kube-apiserver signs with and STS verifies. */
export const SIGNING_KEY_TYPES = [
  "rsa-2048",
  "rsa-3072",
  "rsa-4096",
  "ec-p256",
  "ec-p384",
  "ec-p521",
] as const;
export type SigningKeyType = (typeof SIGNING_KEY_TYPES)[number];

export interface GeneratedKeyPair {
  /** PEM: `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC 1), the forms kubeadm and Cluster API write. */
  privateKeyPem: string;
  /** PEM: `PUBLIC KEY` (PKIX), as the `<cluster>-sa` secret's `tls.crt` holds it. */
  publicKeyPem: string;
  key: PublicSigningKey;
}

/**
 * Generates a new service-account signing key pair. The private key is returned to the caller
 * only: write it where the API server reads it, with mode 0600.
 *
 * @throws {KeysError} `ERR_KEY_UNSUPPORTED` for a type not in {@link SIGNING_KEY_TYPES}.
 *
 * @example
 * const { privateKeyPem, publicKeyPem, key } = generateSigningKey("rsa-2048");
 */
export function generateSigningKey(type: SigningKeyType = "rsa-2048"): GeneratedKeyPair {
  const [family, size] = type.split("-") as [string, string];
  let pair: ReturnType<typeof generateKeyPairSync>;
  if (family === "rsa" && ["2048", "3072", "4096"].includes(size)) {
    pair = generateKeyPairSync("rsa", { modulusLength: Number(size) });
  } else if (family === "ec" && ["p256", "p384", "p521"].includes(size)) {
    pair = generateKeyPairSync("ec", { namedCurve: `P-${size.slice(1)}` });
  } else {
    throw new KeysError(
      "ERR_KEY_UNSUPPORTED",
      `no key type ${quoteInput(type)}; choose one of ${SIGNING_KEY_TYPES.join(", ")}`,
    );
  }
  const privateKeyPem = pair.privateKey.export({
    type: family === "rsa" ? "pkcs1" : "sec1",
    format: "pem",
  }) as string;
  const publicKeyPem = pair.publicKey.export({ type: "spki", format: "pem" }) as string;
  return { privateKeyPem, publicKeyPem, key: toPublicSigningKey(pair.publicKey, `new ${type} key`) };
}

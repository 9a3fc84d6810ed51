import { createPrivateKey, type KeyObject } from "node:crypto";
import { publicKeysFromPem } from "./pem-keys.js";
import { type SigningAlgorithm, toPublicSigningKey } from "./signing-key.js";

const privateBlock = /-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/** The private key a cluster signs service-account tokens with. It never leaves memory. */
export interface PrivateSigningKey {
  readonly privateKey: KeyObject;
  /** The kid kube-apiserver puts in the tokens it signs with this key. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
}

/**
 * The first private key of PEM text (PKCS #8, PKCS #1 or SEC 1): the key kube-apiserver signs
 * service-account tokens with (`--service-account-signing-key-file`), or `undefined` when the text
 * holds only public keys and certificates. Read as `publicKeysFromPem` reads every key.
 *
 * @throws {KeysError} as `publicKeysFromPem`: `ERR_KEY_ENCRYPTED`, `ERR_KEY_MALFORMED`,
 *   `ERR_KEY_NOT_FOUND`, `ERR_KEY_UNSUPPORTED`, `ERR_KEY_TOO_SMALL`. Messages never hold key material.
 *
 * @example
 * const signingKey = privateSigningKeyFromPem(await readFile("sa.key", "utf8"), "sa.key");
 */
export function privateSigningKeyFromPem(text: string, origin: string): PrivateSigningKey | undefined {
  const found = publicKeysFromPem(text, origin).find((key) => key.fromPrivateKey);
  if (!found) return undefined;
  // The block by its label where it has one; the label is only a hint to publicKeysFromPem,
  // which reads blocks by content, so the whole text is OpenSSL's to search otherwise.
  const privateKey = createPrivateKey(privateBlock.exec(text)?.[0] ?? text);
  const { kid, alg } = toPublicSigningKey(privateKey, origin);
  return { privateKey, kid, alg };
}

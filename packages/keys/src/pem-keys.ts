import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { KeysError } from "./errors.js";
import { type PemBlock, parsePemBlocks } from "./lib/pem.js";
import { type PublicSigningKey, toPublicSigningKey } from "./signing-key.js";

/** Blocks that travel with keys but are not keys; skipped as kube-apiserver skips them. */
const nonKeyLabels = new Set([
  "EC PARAMETERS",
  "DH PARAMETERS",
  "X509 CRL",
  "CERTIFICATE REQUEST",
  "NEW CERTIFICATE REQUEST",
]);

/**
 * Reads every public key in PEM text, judging each block by its content rather than its label,
 * as kube-apiserver does: PKIX and PKCS#1 public keys, X.509 certificates, and PKCS#8, PKCS#1 and
 * SEC 1 private keys (only the public half is kept). Text around blocks, CRLF line endings and
 * `EC PARAMETERS` blocks are accepted.
 *
 * @param origin names the input in error messages, e.g. a file name.
 * @throws {KeysError} when a block is encrypted, malformed or holds a key STS does not accept,
 *   or when the text holds no key at all.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 */
export function publicKeysFromPem(text: string, origin: string): PublicSigningKey[] {
  const blocks = parsePemBlocks(text, origin);
  const keys: PublicSigningKey[] = [];
  for (const block of blocks) {
    if (nonKeyLabels.has(block.label)) continue;
    const where = `${origin} (${block.label} at line ${block.line})`;
    keys.push(toPublicSigningKey(keyFromBlock(block, where, origin), where));
  }
  if (keys.length === 0) {
    throw new KeysError(
      "ERR_KEY_NOT_FOUND",
      blocks.length === 0
        ? `${origin}: no PEM block found; give a file with a "-----BEGIN PUBLIC KEY-----" (or private key or certificate) block`
        : `${origin}: no public key, private key or certificate among its PEM blocks`,
    );
  }
  return keys;
}

function keyFromBlock(block: PemBlock, where: string, file: string): KeyObject {
  const encrypted = () =>
    new KeysError(
      "ERR_KEY_ENCRYPTED",
      `${where}: the private key is encrypted; decrypt it (openssl pkey -in ${file} -out sa.key, which asks for the passphrase) or give its public key (openssl pkey -in ${file} -pubout -out sa.pub)`,
    );
  if (block.label === "ENCRYPTED PRIVATE KEY" || /ENCRYPTED/i.test(block.headers["Proc-Type"] ?? "")) {
    throw encrypted();
  }
  const der = block.der;
  // Go's parsers, which kube-apiserver uses, refuse bytes after the key; OpenSSL ignores them.
  const encoded = derSequenceLength(der);
  if (encoded !== undefined && encoded !== der.length) {
    throw new KeysError(
      "ERR_KEY_MALFORMED",
      `${where}: the block holds ${der.length - encoded} bytes after its key; copy the key again without editing it`,
    );
  }
  // Private forms first: some OpenSSL versions derive a public key from a PKCS#1 private
  // key when asked for a public one, which would hide that this block is the signing key.
  const attempts: Array<() => KeyObject> = [
    () => createPrivateKey({ key: der, format: "der", type: "pkcs8" }),
    () => createPrivateKey({ key: der, format: "der", type: "pkcs1" }),
    () => createPrivateKey({ key: der, format: "der", type: "sec1" }),
    () => createPublicKey({ key: der, format: "der", type: "spki" }),
    () => createPublicKey({ key: der, format: "der", type: "pkcs1" }),
    () => new X509Certificate(der).publicKey,
  ];
  // The label is only a hint, tried first: a block is read by its content whatever its label.
  // SPKI and certificates cannot be read from a private key's DER, so putting them first for their
  // own labels hides nothing, and spares the three failed private-key parses.
  const hinted = block.label === "PUBLIC KEY" ? 3 : block.label === "CERTIFICATE" ? 5 : -1;
  if (hinted >= 0) attempts.unshift(...attempts.splice(hinted, 1));
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch (error) {
      // An encrypted PKCS#8 body under a plain "PRIVATE KEY" label: judged by content.
      if ((error as { code?: unknown }).code === "ERR_MISSING_PASSPHRASE") throw encrypted();
      // not this form; try the next
    }
  }
  throw new KeysError(
    "ERR_KEY_MALFORMED",
    `${where}: the block is not a public key, private key or certificate (its DER does not parse); copy the key again without editing it`,
  );
}

/** The length of a DER SEQUENCE with its header, or undefined when the bytes do not start one. */
function derSequenceLength(der: Uint8Array): number | undefined {
  if (der[0] !== 0x30 || der.length < 2) return undefined;
  const first = der[1] as number;
  if (first < 0x80) return 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4 || der.length < 2 + octets) return undefined;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + (der[2 + i] as number);
  return 2 + octets + length;
}

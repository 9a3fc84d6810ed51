import { isDnsLabel, isDnsSubdomain } from "@irsa-anywhere/errors";
import { KeysError } from "./errors.js";
import type { PublicSigningKey } from "./signing-key.js";

export interface SigningKeySecretOptions {
  /** The secret's name, a DNS-1123 subdomain: `<cluster>-sa` for Cluster API and EKS Anywhere. */
  name: string;
  /** A DNS-1123 label; EKS Anywhere keeps the secret in `eksa-system`. */
  namespace: string;
  /** Goes into `tls.key`: the key the API server signs with. */
  privateKeyPem: string;
  /**
   * Go into `tls.crt`, in this order: the signing key's public half first, then every key the
   * API server must still verify with (the previous key, during a rotation).
   */
  publicKeys: readonly PublicSigningKey[];
}

/**
 * A Secret manifest (YAML) in the shape of Cluster API's and EKS Anywhere's `<cluster>-sa`
 * secret. It holds the private key: write it with mode 0600.
 *
 * @throws {KeysError} `ERR_SECRET_NAME_INVALID` for a name or namespace Kubernetes would refuse
 *   (which, with a newline, could otherwise add members to the manifest).
 *
 * @example
 * const previousKeys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * const pair = generateSigningKey("rsa-2048");
 * signingKeySecretManifest({
 *   name: "prod-sa", namespace: "eksa-system",
 *   privateKeyPem: pair.privateKeyPem, publicKeys: [pair.key, ...previousKeys],
 * });
 */
export function signingKeySecretManifest(options: SigningKeySecretOptions): string {
  const { name, namespace } = options;
  if (!isDnsSubdomain(name)) {
    throw new KeysError(
      "ERR_SECRET_NAME_INVALID",
      `secret name ${JSON.stringify(name)} is not one Kubernetes accepts: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters (e.g. prod-sa)`,
    );
  }
  if (!isDnsLabel(namespace)) {
    throw new KeysError(
      "ERR_SECRET_NAME_INVALID",
      `namespace ${JSON.stringify(namespace)} is not one Kubernetes accepts: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters (e.g. eksa-system)`,
    );
  }
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  const publicPems = options.publicKeys
    .map((key) => key.publicKey.export({ type: "spki", format: "pem" }) as string)
    .join("");
  return [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    "type: cluster.x-k8s.io/secret",
    "data:",
    `  tls.crt: ${b64(publicPems)}`,
    `  tls.key: ${b64(options.privateKeyPem)}`,
    "",
  ].join("\n");
}

import {
  KeysError,
  type PrivateSigningKey,
  privateSigningKeyFromPem,
  readKeySources,
} from "@irsa-anywhere/keys";
import { DoctorError } from "./errors.js";

/** The cluster's private signing key, for the smoke test: `@irsa-anywhere/keys`' own. Never leaves memory. */
export type SigningKey = PrivateSigningKey;

/**
 * Reads the first private key of PEM text (PKCS #8, PKCS #1 or SEC 1): the key kube-apiserver
 * signs service-account tokens with (`--service-account-signing-key-file`), with keys' reader.
 *
 * @throws {DoctorError} `ERR_SIGNING_KEY_MISSING` when the text holds no private key,
 *   `ERR_SIGNING_KEY_INVALID` when it is encrypted, malformed or of a kind STS does not accept.
 *   Messages never hold key material.
 *
 * @example
 * const signingKey = signingKeyFromPem(await readFile("sa.key", "utf8"), "sa.key");
 * await diagnose({
 *   issuer: "https://oidc.example.com/prod",
 *   serviceAccount: "payments/api",
 *   roleArn: "arn:aws:iam::111122223333:role/payments-api",
 *   smokeTest: true,
 *   signingKey,
 * });
 */
export function signingKeyFromPem(text: string, origin: string): SigningKey {
  let signingKey: SigningKey | undefined;
  try {
    signingKey = privateSigningKeyFromPem(text, origin);
  } catch (error) {
    if (!(error instanceof KeysError)) throw error;
    throw new DoctorError(
      error.code === "ERR_KEY_NOT_FOUND" ? "ERR_SIGNING_KEY_MISSING" : "ERR_SIGNING_KEY_INVALID",
      error.message,
      { cause: error },
    );
  }
  if (!signingKey) throw missing(origin);
  return signingKey;
}

export interface ClusterSigningKeyOptions {
  /** The cluster's name; the secret read is `<cluster>-sa`, as EKS Anywhere names it. */
  cluster: string;
  /** Default `eksa-system`. */
  namespace?: string | undefined;
  /** A kubeconfig file; default `KUBECONFIG`, `~/.kube/config`, or the in-cluster config in a pod. */
  kubeconfig?: string | undefined;
  /** A context of the kubeconfig; default its current context. */
  context?: string | undefined;
  /** Default (and at most) 30 s. */
  timeoutMs?: number | undefined;
}

/**
 * Reads the private signing key from the cluster's `<cluster>-sa` secret, as `readKeySources`
 * reads a cluster.
 *
 * @throws {KubeError} (of `@irsa-anywhere/kube`) `ERR_KUBECONFIG_INVALID`,
 *   `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_FORBIDDEN`, `ERR_CLUSTER_SECRET_NOT_FOUND`.
 * @throws {DoctorError} `ERR_SIGNING_KEY_MISSING` when the secret holds no private key.
 *
 * @example
 * const signingKey = await signingKeyFromCluster({ cluster: "prod", kubeconfig: "prod.kubeconfig" });
 */
export async function signingKeyFromCluster(options: ClusterSigningKeyOptions): Promise<SigningKey> {
  const { signingKey } = await readKeySources(options);
  if (!signingKey) throw missing(`secret ${options.namespace ?? "eksa-system"}/${options.cluster}-sa`);
  return signingKey;
}

function missing(origin: string): DoctorError {
  return new DoctorError(
    "ERR_SIGNING_KEY_MISSING",
    `${origin} holds no private key; the smoke test signs a token with the cluster's private signing key (--cluster NAME, or --key with the private key)`,
  );
}

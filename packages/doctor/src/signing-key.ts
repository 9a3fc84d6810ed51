import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { parseManifest, type SigningAlgorithm, toPublicSigningKey } from "@irsa-anywhere/keys";
import { type KubeconfigOptions, readClusterSecret } from "@irsa-anywhere/kube";
import { DoctorError } from "./errors.js";

/** The cluster's private signing key, for the smoke test. Never leaves memory. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  /** The kid kube-apiserver puts in the tokens it signs with this key. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
}

const privateBlock = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/**
 * Reads the first private key of PEM text (PKCS #8, PKCS #1 or SEC 1): the key kube-apiserver
 * signs service-account tokens with (`--service-account-signing-key-file`).
 *
 * @throws {DoctorError} `ERR_SIGNING_KEY_MISSING` when the text holds no private key,
 *   `ERR_SIGNING_KEY_INVALID` when it is encrypted, malformed or of a kind STS does not accept.
 *   Messages never hold key material.
 *
 * @example
 * const signingKey = signingKeyFromPem(await readFile("sa.key", "utf8"), "sa.key");
 * await diagnose({ issuer, serviceAccount: "payments/api", roleArn, smokeTest: true, signingKey });
 */
export function signingKeyFromPem(text: string, origin: string): SigningKey {
  const block = privateBlock.exec(text);
  if (!block) {
    throw new DoctorError(
      "ERR_SIGNING_KEY_MISSING",
      `${origin} holds no private key; the smoke test signs a token with the cluster's private signing key (--cluster NAME, or --key with the private key)`,
    );
  }
  if (block[1] === "ENCRYPTED PRIVATE KEY" || /Proc-Type:.*ENCRYPTED/.test(block[0])) {
    throw new DoctorError(
      "ERR_SIGNING_KEY_INVALID",
      `${origin}: the private key is encrypted; decrypt it first (openssl pkey -in FILE -out sa.key)`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(block[0]);
  } catch {
    throw new DoctorError(
      "ERR_SIGNING_KEY_INVALID",
      `${origin}: the private key does not parse; copy it again without editing it`,
    );
  }
  try {
    const { kid, alg } = toPublicSigningKey(createPublicKey(privateKey), origin);
    return { privateKey, kid, alg };
  } catch (error) {
    throw new DoctorError("ERR_SIGNING_KEY_INVALID", (error as Error).message);
  }
}

/**
 * Reads the private key of a service-account key secret's `data` (base64 `tls.key`, as
 * EKS Anywhere and Cluster API store it).
 *
 * @throws {DoctorError} as {@link signingKeyFromPem}.
 */
export function signingKeyFromSecretData(
  data: Readonly<Record<string, string | undefined>>,
  origin: string,
): SigningKey {
  const key = data["tls.key"];
  if (key === undefined) {
    throw new DoctorError(
      "ERR_SIGNING_KEY_MISSING",
      `${origin} has no data."tls.key"; the smoke test needs the cluster's private signing key`,
    );
  }
  return signingKeyFromPem(
    Buffer.from(key.replace(/\s+/g, ""), "base64").toString("utf8"),
    `${origin} tls.key`,
  );
}

/**
 * Reads the private key of a Secret manifest, as `kubectl get secret <cluster>-sa -n eksa-system
 * -o json` (or `-o yaml`) prints it.
 *
 * @throws {DoctorError} as {@link signingKeyFromPem}.
 */
export async function signingKeyFromSecretManifest(text: string, origin: string): Promise<SigningKey> {
  const manifest = await parseManifest(text, origin);
  const data = (manifest as { data?: unknown } | null)?.data;
  if (typeof data !== "object" || data === null) {
    throw new DoctorError("ERR_SIGNING_KEY_MISSING", `${origin}: not a Secret with a "data" map`);
  }
  return signingKeyFromSecretData(data as Record<string, string>, origin);
}

export interface ClusterSigningKeyOptions extends KubeconfigOptions {
  /** The cluster's name; the secret read is `<cluster>-sa`, as EKS Anywhere names it. */
  cluster: string;
  /** Default `eksa-system`. */
  namespace?: string;
  /** Default 30 s. */
  timeoutMs?: number;
}

/**
 * Reads the private signing key from the cluster's `<cluster>-sa` secret through the
 * Kubernetes API.
 *
 * @throws {KubeError} `ERR_KUBECONFIG_INVALID`, `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_FORBIDDEN`,
 *   `ERR_CLUSTER_SECRET_NOT_FOUND`: the codes of reading a cluster, which kube owns.
 * @throws {DoctorError} those of {@link signingKeyFromPem}.
 *
 * @example
 * const signingKey = await signingKeyFromCluster({ cluster: "prod", kubeconfig: "prod.kubeconfig" });
 */
export async function signingKeyFromCluster(options: ClusterSigningKeyOptions): Promise<SigningKey> {
  const namespace = options.namespace ?? "eksa-system";
  const name = `${options.cluster}-sa`;
  const data = await readClusterSecret({
    namespace,
    name,
    kubeconfig: options.kubeconfig,
    context: options.context,
    timeoutMs: options.timeoutMs,
  });
  const origin = `secret ${namespace}/${name}`;
  const key = data["tls.key"];
  if (key === undefined) {
    throw new DoctorError(
      "ERR_SIGNING_KEY_MISSING",
      `${origin} has no data."tls.key"; the smoke test needs the cluster's private signing key`,
    );
  }
  return signingKeyFromPem(Buffer.from(key).toString("utf8"), `${origin} tls.key`);
}

import { INPUT_LIMITS, readInput } from "@irsa-anywhere/errors";
import { type KubeconfigOptions, readClusterSecretKeys } from "./cluster.js";
import { publicKeysFromClusterJwks } from "./cluster-jwks.js";
import { publicKeysFromPem } from "./pem-keys.js";
import { type PrivateSigningKey, privateSigningKeyFromPem } from "./private-signing-key.js";
import { readSecretManifest } from "./secret.js";
import type { PublicSigningKey } from "./signing-key.js";

/** Where a cluster's keys come from: any mix of the four sources, each read once. */
export interface KeySourceSpec extends KubeconfigOptions {
  /** PEM files: public keys, certificates, or private keys (public half used); `-` is `stdin`. */
  pemFiles?: readonly string[] | undefined;
  /** Secret manifests, as `kubectl get secret <cluster>-sa -n eksa-system -o json` (or yaml) prints them; `-` is `stdin`. */
  secretFiles?: readonly string[] | undefined;
  /** A cluster whose `<cluster>-sa` secret is read through the Kubernetes API. */
  cluster?: string | undefined;
  /** The namespace of the `<cluster>-sa` secret; default `eksa-system`. */
  namespace?: string | undefined;
  /** Read the public keys the API server serves at `/openid/v1/jwks`. */
  clusterJwks?: boolean | undefined;
  /** The caller's overall deadline: no Kubernetes request waits longer (nor longer than 30 s). */
  timeoutMs?: number | undefined;
  /** What `-` reads; without it, `-` is a file name. */
  stdin?: AsyncIterable<Uint8Array> | undefined;
}

/** What {@link readKeySources} found. */
export interface KeySources {
  /** Every public key, in the order of the sources; `currentSigningKey(keys)` is the one signing now. */
  keys: PublicSigningKey[];
  /** The first private key read, if a source held one: the key the cluster signs with. */
  signingKey: PrivateSigningKey | undefined;
}

/**
 * Reads every key source of `spec`, each once (so `-`, standard input, works for every use):
 * the cluster's secret, then the API server's JWKS, then secret files, then PEM files, each in
 * the order given. The current key (`currentSigningKey`) is the first read from a private key,
 * otherwise the first key; `signingKey` is that private key, when one was read. The cluster
 * sources load `@irsa-anywhere/kube` (an optional peer dependency) only when named.
 *
 * @throws {KeysError} for a malformed key or secret; `InputError` (of `@irsa-anywhere/errors`)
 *   for an unreadable or oversized file; `KubeError` (of `@irsa-anywhere/kube`) for the cluster.
 *
 * @example
 * const { keys } = await readKeySources({ pemFiles: ["sa.pub"] });
 * const jwks = serializeJwks(buildJwks(keys));
 */
export async function readKeySources(spec: KeySourceSpec): Promise<KeySources> {
  const keys: PublicSigningKey[] = [];
  let signingKey: PrivateSigningKey | undefined;
  const found = (read: readonly PublicSigningKey[], privateKeyPem: string | undefined, origin: string) => {
    keys.push(...read);
    if (signingKey === undefined && privateKeyPem !== undefined && read.some((key) => key.fromPrivateKey)) {
      signingKey = privateSigningKeyFromPem(privateKeyPem, origin);
    }
  };
  const kubeconfig = { kubeconfig: spec.kubeconfig, context: spec.context, timeoutMs: spec.timeoutMs };
  if (spec.cluster !== undefined) {
    const secret = await readClusterSecretKeys({
      ...kubeconfig,
      cluster: spec.cluster,
      namespace: spec.namespace,
    });
    found(secret.keys, secret.privateKeyPem, `${secret.origin} tls.key`);
  }
  if (spec.clusterJwks) keys.push(...(await publicKeysFromClusterJwks(kubeconfig)));
  for (const file of spec.secretFiles ?? []) {
    const text = await readInput(file, {
      maxBytes: INPUT_LIMITS.manifest,
      what: "--secret-file",
      stdin: spec.stdin,
    });
    const origin = displayName(file);
    const secret = await readSecretManifest(text, origin);
    found(secret.keys, secret.privateKeyPem, `${origin} tls.key`);
  }
  for (const file of spec.pemFiles ?? []) {
    const text = await readInput(file, { maxBytes: INPUT_LIMITS.pem, what: "--key", stdin: spec.stdin });
    const origin = displayName(file);
    found(publicKeysFromPem(text, origin), text, origin);
  }
  return { keys, signingKey };
}

/**
 * Whether `spec` names any key source at all.
 *
 * @example
 * const spec: KeySourceSpec = { pemFiles: ["sa.pub"] };
 * if (!hasKeySource(spec)) throw new Error("give a key source");
 */
export function hasKeySource(spec: KeySourceSpec): boolean {
  return (
    (spec.pemFiles?.length ?? 0) > 0 ||
    (spec.secretFiles?.length ?? 0) > 0 ||
    spec.cluster !== undefined ||
    spec.clusterJwks === true
  );
}

/**
 * `spec` split in two: the files, read once, and the cluster sources, read again on each
 * refresh (as `serve` does). Reading `cluster` then `files` gives {@link readKeySources}'s order.
 *
 * @example
 * const spec: KeySourceSpec = { cluster: "prod", pemFiles: ["next.pub"] };
 * const { files, cluster } = splitKeySources(spec);
 * const fileKeys = (await readKeySources(files)).keys;
 * const refresh = async () => [...(await readKeySources(cluster)).keys, ...fileKeys];
 */
export function splitKeySources(spec: KeySourceSpec): { files: KeySourceSpec; cluster: KeySourceSpec } {
  return {
    files: { ...spec, cluster: undefined, clusterJwks: undefined },
    cluster: { ...spec, pemFiles: undefined, secretFiles: undefined },
  };
}

function displayName(file: string): string {
  return file === "-" ? "standard input" : file;
}

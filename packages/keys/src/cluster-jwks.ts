import type { KubeconfigOptions } from "./cluster.js";
import { parseJwks } from "./jwks.js";
import { loadKube } from "./lib/kube.js";
import type { PublicSigningKey } from "./signing-key.js";

export interface ClusterJwksOptions extends KubeconfigOptions {
  /** How long to wait for the API server's answer; default (and at most) 30 s. */
  timeoutMs?: number | undefined;
}

/**
 * Reads the public keys the API server itself serves at `/openid/v1/jwks`: every key it
 * verifies service-account tokens with, named as it names them. No secret is read, so a job
 * needs no access to the private key: the default `system:service-account-issuer-discovery`
 * binding lets every service account read this path. Loads `@irsa-anywhere/kube` on first use.
 *
 * @throws {KubeError} (of `@irsa-anywhere/kube`) `ERR_KUBECONFIG_INVALID`,
 *   `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_FORBIDDEN`.
 * @throws {KeysError} `ERR_JWKS_INVALID`.
 *
 * @example
 * const keys = await publicKeysFromClusterJwks({ kubeconfig: "prod.kubeconfig" });
 */
export async function publicKeysFromClusterJwks(
  options: ClusterJwksOptions = {},
): Promise<PublicSigningKey[]> {
  const kube = await loadKube();
  const { text, url } = await kube.readClusterJwks(options);
  return parseJwks(text, `the API server's JWKS at ${url}`).keys;
}

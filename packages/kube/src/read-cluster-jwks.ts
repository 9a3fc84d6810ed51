import { firstLine } from "@irsa-anywhere/errors";
import { KubeError } from "./errors.js";
import { type KubeconfigOptions, loadKubeconfig } from "./lib/kubeconfig.js";
import { httpStatus, kubeRequest } from "./lib/request.js";
import { kubernetesTimeoutMs } from "./timeout.js";

/** A JWKS is small; an answer this large is not one, and is not handed on to be parsed. */
const MAX_JWKS_CHARACTERS = 1_000_000;

export interface ClusterJwksReadOptions extends KubeconfigOptions {
  /** The caller's overall deadline; no request waits longer than {@link kubernetesTimeoutMs} of it. */
  timeoutMs?: number | undefined;
}

/** The API server's JWKS as it served it, and where from, for messages. */
export interface ClusterJwksText {
  /** The JSON text, unparsed: parsing a JWKS is `@irsa-anywhere/keys`'s concept. */
  text: string;
  /** `https://<server>/openid/v1/jwks`. */
  url: string;
}

/**
 * Reads the JWKS the API server serves at `/openid/v1/jwks` (OpenidApi): every key it verifies
 * service-account tokens with. No secret is read: the default
 * `system:service-account-issuer-discovery` binding lets every service account read this path.
 *
 * @throws {KubeError} `ERR_KUBECONFIG_INVALID`, `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_FORBIDDEN`.
 *
 * @example
 * const { text } = await readClusterJwks({ kubeconfig: "prod.kubeconfig" });
 */
export async function readClusterJwks(options: ClusterJwksReadOptions = {}): Promise<ClusterJwksText> {
  const { k8s, config, server } = await loadKubeconfig(options);
  const url = `${server.replace(/\/+$/, "")}/openid/v1/jwks`;
  const api = config.makeApiClient(k8s.OpenidApi);
  let answer: unknown;
  try {
    answer = await kubeRequest(
      { server, operation: "GET /openid/v1/jwks", timeoutMs: kubernetesTimeoutMs(options.timeoutMs) },
      api.getServiceAccountIssuerOpenIDKeyset(),
    );
  } catch (error) {
    const status = httpStatus(error);
    if (status === 401 || status === 403) {
      throw new KubeError(
        "ERR_CLUSTER_FORBIDDEN",
        `${url} refused this identity (HTTP ${status}); it needs the system:service-account-issuer-discovery cluster role, bound by default to all service accounts`,
      );
    }
    if (status !== undefined) {
      throw new KubeError(
        "ERR_CLUSTER_UNREACHABLE",
        `${url} answered HTTP ${status}; the API server serves its JWKS from Kubernetes 1.21 on (ServiceAccountIssuerDiscovery)`,
      );
    }
    throw new KubeError(
      "ERR_CLUSTER_UNREACHABLE",
      `cannot read ${url}: ${firstLine(error)}; check that the cluster is up and the kubeconfig points at it`,
      { cause: error },
    );
  }
  // Typed as a string, but client-node parses a JSON content type (kube-apiserver sends
  // application/jwk-set+json) into its object: the text again, for keys' own parser.
  const text = typeof answer === "string" ? answer : JSON.stringify(answer);
  if (text.length > MAX_JWKS_CHARACTERS) {
    throw new KubeError(
      "ERR_CLUSTER_UNREACHABLE",
      `cannot read ${url}: answer larger than 1 MB, which no JWKS is; check that the kubeconfig points at the API server`,
    );
  }
  return { text, url };
}

import type { RequestOptions } from "node:https";
import { KeysError } from "./errors.js";
import { parseJwks } from "./jwks.js";
import { firstLine, type KubeconfigOptions, loadKubeconfig, withTimeout } from "./lib/kubeconfig.js";
import { trackRequest } from "./requests-in-flight.js";
import type { PublicSigningKey } from "./signing-key.js";

export interface ClusterJwksOptions extends KubeconfigOptions {
  /** How long to wait for the API server's answer; default 30 s. */
  timeoutMs?: number;
}

/**
 * Reads the public keys the API server itself serves at `/openid/v1/jwks`: every key it
 * verifies service-account tokens with, named as it names them. No secret is read, so a job
 * needs no access to the private key: the default `system:service-account-issuer-discovery`
 * binding lets every service account read this path.
 *
 * @throws {KeysError} `ERR_KUBECONFIG_INVALID`, `ERR_CLUSTER_UNREACHABLE`, `ERR_CLUSTER_FORBIDDEN`,
 *   `ERR_JWKS_INVALID`.
 *
 * @example
 * const keys = await publicKeysFromClusterJwks({ kubeconfig: "prod.kubeconfig" });
 */
export async function publicKeysFromClusterJwks(
  options: ClusterJwksOptions = {},
): Promise<PublicSigningKey[]> {
  const { config, server } = await loadKubeconfig(options);
  const url = `${server.replace(/\/+$/, "")}/openid/v1/jwks`;
  const requestOptions: RequestOptions = { method: "GET", headers: { accept: "application/json" } };
  try {
    // Runs the user's exec plugin (aws eks get-token, ...) or reads its certificate files.
    await config.applyToHTTPSOptions(requestOptions);
  } catch (error) {
    throw new KeysError(
      "ERR_CLUSTER_UNREACHABLE",
      `cannot get the kubeconfig's credentials for ${server}: ${firstLine(error)}; check its user entry (exec plugin and login, certificate and token files)`,
      { cause: error },
    );
  }
  let answer: { status: number; body: string };
  try {
    answer = await trackRequest(
      { service: "the Kubernetes API", endpoint: server, operation: "GET /openid/v1/jwks" },
      withTimeout(get(url, requestOptions), options.timeoutMs ?? 30_000),
    );
  } catch (error) {
    throw new KeysError(
      "ERR_CLUSTER_UNREACHABLE",
      `cannot read ${url}: ${firstLine(error)}; check that the cluster is up and the kubeconfig points at it`,
      { cause: error },
    );
  }
  if (answer.status === 401 || answer.status === 403) {
    throw new KeysError(
      "ERR_CLUSTER_FORBIDDEN",
      `${url} refused this identity (HTTP ${answer.status}); it needs the system:service-account-issuer-discovery cluster role, bound by default to all service accounts`,
    );
  }
  if (answer.status !== 200) {
    throw new KeysError(
      "ERR_CLUSTER_UNREACHABLE",
      `${url} answered HTTP ${answer.status}; the API server serves its JWKS from Kubernetes 1.21 on (ServiceAccountIssuerDiscovery)`,
    );
  }
  return parseJwks(answer.body, `the API server's JWKS at ${url}`).keys;
}

async function get(url: string, options: RequestOptions): Promise<{ status: number; body: string }> {
  // Imported here, not at the top: node:https pulls in net, tls and streams, a tenth of the
  // cold start of `keys --key`, which never talks to a cluster (bench/cold-start.mjs).
  const { request: send } = url.startsWith("https:") ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const request = send(url, options, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        // A JWKS is small; anything this large is not one.
        if (body.length + chunk.length > 1_000_000) request.destroy(new Error("answer larger than 1 MB"));
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

import { firstLine, formatMs, trackRequest } from "@irsa-anywhere/errors";
import { KubeError } from "../errors.js";

/**
 * @internal
 * One request to the API server under the one timeout policy: counted in `requestsInFlight` (what
 * a command's --timeout names) and given up after `timeoutMs`, since client-node has no timeout
 * of its own and an API server that accepts and never answers would hang us.
 */
export async function kubeRequest<T>(
  at: { server: string; operation: string; timeoutMs: number },
  answer: Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${formatMs(at.timeoutMs)}`)), at.timeoutMs);
    timer.unref();
  });
  try {
    return await trackRequest(
      { service: "the Kubernetes API", endpoint: at.server, operation: at.operation },
      Promise.race([answer, timeout]),
    );
  } finally {
    clearTimeout(timer);
  }
}

/** @internal The HTTP status of a client-node failure (`ApiException.code`), if it has one. */
export function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * @internal
 * The one reading of a failed request as a KubeError: refused (401, 403) is
 * `ERR_CLUSTER_FORBIDDEN`; a write the API server turned down (400, 404, 409, 415, 422) is
 * `ERR_CLUSTER_WRITE_REFUSED`, with the server's own one-line reason; anything else
 * `ERR_CLUSTER_UNREACHABLE`. `operation` says what was tried, as `get serviceaccount payments/api`.
 */
export function clusterError(error: unknown, operation: string, server: string): KubeError {
  const status = httpStatus(error);
  const body = (error as { body?: unknown } | null)?.body;
  const said = (() => {
    const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
    try {
      const message = (JSON.parse(text) as { message?: unknown }).message;
      return typeof message === "string" ? firstLine(message) : undefined;
    } catch {
      return undefined;
    }
  })();
  if (status === 401 || status === 403) {
    return new KubeError(
      "ERR_CLUSTER_FORBIDDEN",
      `${server} refused to let this identity ${operation} (HTTP ${status}); grant it, or use a kubeconfig that has it`,
      { cause: error },
    );
  }
  if (status === 404 || status === 409 || status === 422 || status === 400 || status === 415) {
    return new KubeError(
      "ERR_CLUSTER_WRITE_REFUSED",
      `${server} refused to ${operation} (HTTP ${status})${said === undefined ? "" : `: ${said}`}`,
      { cause: error },
    );
  }
  const reason =
    status === undefined ? firstLine(error) : `HTTP ${status}${said === undefined ? "" : `: ${said}`}`;
  return new KubeError(
    "ERR_CLUSTER_UNREACHABLE",
    `cannot ${operation} on ${server}: ${reason}; check that the cluster is up and the kubeconfig points at it`,
    { cause: error },
  );
}

/**
 * @internal
 * The two ways a connection makes its requests, under the one timeout policy: `call`, whose
 * failure is a {@link clusterError}, and `absentOn404`, for which an object that is not there is
 * `undefined` (a read or delete of nothing is an answer, not a failure).
 */
export function requests(server: string, timeoutMs: number) {
  const call = async <T>(operation: string, answer: () => Promise<T>): Promise<T> => {
    try {
      return await kubeRequest({ server, operation, timeoutMs }, answer());
    } catch (error) {
      throw clusterError(error, operation, server);
    }
  };
  const absentOn404 = async <T>(operation: string, answer: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await kubeRequest({ server, operation, timeoutMs }, answer());
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw clusterError(error, operation, server);
    }
  };
  return { call, absentOn404 };
}

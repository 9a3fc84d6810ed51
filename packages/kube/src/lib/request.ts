import { formatMs, trackRequest } from "@irsa-anywhere/errors";

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

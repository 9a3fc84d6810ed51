/** How long one Kubernetes request may wait, unless the caller's overall deadline is shorter. */
export const KUBERNETES_TIMEOUT_MS = 30_000;

/**
 * The one timeout policy of every Kubernetes request: {@link KUBERNETES_TIMEOUT_MS}, or the
 * caller's overall deadline (a command's `--timeout`) when that is shorter.
 *
 * @example
 * kubernetesTimeoutMs(5_000); // 5000
 * kubernetesTimeoutMs(undefined); // 30000
 */
export function kubernetesTimeoutMs(overallMs?: number | undefined): number {
  return Math.min(KUBERNETES_TIMEOUT_MS, overallMs ?? KUBERNETES_TIMEOUT_MS);
}

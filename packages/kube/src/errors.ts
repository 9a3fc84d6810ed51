import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/** Stable codes for every failure of talking to a cluster; assert on these, not on message text. */
export type KubeErrorCode =
  | "ERR_KUBECONFIG_INVALID"
  | "ERR_CLUSTER_UNREACHABLE"
  | "ERR_CLUSTER_FORBIDDEN"
  | "ERR_CLUSTER_SECRET_NOT_FOUND"
  | "ERR_CLUSTER_WRITE_REFUSED"
  | "ERR_DEPLOYMENT_NOT_READY";

const faults: FaultTable<KubeErrorCode> = {
  ERR_KUBECONFIG_INVALID: "input",
  ERR_CLUSTER_UNREACHABLE: "environment",
  ERR_CLUSTER_FORBIDDEN: "environment",
  ERR_CLUSTER_SECRET_NOT_FOUND: "input",
  ERR_CLUSTER_WRITE_REFUSED: "environment",
  ERR_DEPLOYMENT_NOT_READY: "environment",
};

/**
 * The one error class of `@irsa-anywhere/kube`: the kubeconfig is wrong, or the API server is
 * down, refuses, or has no such secret. Its message is one line naming the server and what to do.
 *
 * @example
 * try {
 *   await readClusterSecret({ namespace: "eksa-system", name: "prod-sa" });
 * } catch (error) {
 *   if (error instanceof KubeError && error.code === "ERR_CLUSTER_FORBIDDEN") console.error(error.message);
 *   else throw error;
 * }
 */
export class KubeError extends IrsaAnywhereError<KubeErrorCode> {
  override readonly name = "KubeError";

  constructor(code: KubeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}

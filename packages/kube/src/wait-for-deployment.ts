import { formatMs } from "@irsa-anywhere/errors";
import type { ClusterObjects } from "./cluster-objects.js";
import { KubeError } from "./errors.js";

/**
 * How far a Deployment's rollout has got.
 *
 * @example
 * const onProgress = (progress: DeploymentProgress) => console.error(`${progress.ready}/${progress.desired} ready`);
 */
export interface DeploymentProgress {
  /** Replicas of the current version that are ready. */
  ready: number;
  /** Replicas the Deployment asks for. */
  desired: number;
  /** The controller has seen the current spec. */
  observed: boolean;
}

export interface DeploymentWaitOptions {
  namespace: string;
  name: string;
  /** How long to wait in all; the wait fails after it. */
  timeoutMs: number;
  /** How often to look; 2 s by default. */
  intervalMs?: number;
  /** Told each time the count of ready replicas changes, and at the first look. */
  onProgress?: (progress: DeploymentProgress) => void;
}

/**
 * Waits until every replica of the Deployment's current version is ready, as
 * `kubectl rollout status` does: the controller has observed the latest generation, and updated,
 * ready and available replicas each reach the desired count.
 *
 * @throws {KubeError} `ERR_DEPLOYMENT_NOT_READY` when it is not ready within `timeoutMs`, or is gone;
 *   any error of {@link ClusterObjects.read}.
 *
 * @example
 * const cluster = await connectClusterObjects({ kubeconfig: "prod.kubeconfig", fieldManager: "irsa-anywhere" });
 * await waitForDeployment(cluster, { namespace: "irsa-anywhere", name: "pod-identity-webhook", timeoutMs: 120_000 });
 */
export async function waitForDeployment(
  cluster: ClusterObjects,
  options: DeploymentWaitOptions,
): Promise<void> {
  const { namespace, name, timeoutMs, intervalMs = 2_000 } = options;
  const giveUpAt = Date.now() + timeoutMs;
  let last: DeploymentProgress | undefined;
  for (;;) {
    const deployment = await cluster.read({ apiVersion: "apps/v1", kind: "Deployment", namespace, name });
    if (deployment === undefined) {
      throw new KubeError(
        "ERR_DEPLOYMENT_NOT_READY",
        `Deployment ${namespace}/${name} is gone from ${cluster.server} while waiting for it to become ready; something deleted it`,
      );
    }
    const progress = progressOf(deployment);
    if (last === undefined || last.ready !== progress.ready || last.observed !== progress.observed)
      options.onProgress?.(progress);
    last = progress;
    if (progress.observed && progress.ready >= progress.desired && isComplete(deployment)) return;
    const left = giveUpAt - Date.now();
    if (left <= 0) {
      throw new KubeError(
        "ERR_DEPLOYMENT_NOT_READY",
        `Deployment ${namespace}/${name} has ${progress.ready} of ${progress.desired} replicas ready after ${formatMs(timeoutMs)}; see why with kubectl -n ${namespace} describe deployment ${name} (and its pods' events), or give a longer --timeout`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}

interface DeploymentFields {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
}

function progressOf(object: object): DeploymentProgress {
  const deployment = object as DeploymentFields;
  const desired = deployment.spec?.replicas ?? 1;
  const observed = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 1);
  const ready = Math.min(deployment.status?.updatedReplicas ?? 0, deployment.status?.readyReplicas ?? 0);
  return { ready, desired, observed };
}

/** No old replicas left, and the new ones available, as `kubectl rollout status` requires. */
function isComplete(object: object): boolean {
  const { spec, status } = object as DeploymentFields;
  const desired = spec?.replicas ?? 1;
  return (
    (status?.updatedReplicas ?? 0) >= desired &&
    (status?.replicas ?? 0) <= (status?.updatedReplicas ?? 0) &&
    (status?.availableReplicas ?? 0) >= desired
  );
}

export {
  type ClusterObjects,
  type ClusterObjectsOptions,
  connectClusterObjects,
  describeRef,
  type KubeObject,
  type KubeObjectRef,
  refOf,
} from "./cluster-objects.js";
export { connectKube, type KubeAnswer, type KubeApi } from "./connect-kube.js";
export { KubeError, type KubeErrorCode } from "./errors.js";
export type { KubeconfigOptions } from "./lib/kubeconfig.js";
export { type ClusterJwksReadOptions, type ClusterJwksText, readClusterJwks } from "./read-cluster-jwks.js";
export { type ClusterSecretOptions, readClusterSecret, type SecretData } from "./read-cluster-secret.js";
export {
  connectServiceAccounts,
  type ServiceAccountClient,
  type ServiceAccountClientOptions,
  type ServiceAccountState,
} from "./service-accounts.js";
export { KUBERNETES_TIMEOUT_MS, kubernetesTimeoutMs } from "./timeout.js";
export {
  type DeploymentProgress,
  type DeploymentWaitOptions,
  waitForDeployment,
} from "./wait-for-deployment.js";
export { type SecretWatch, type SecretWatchOptions, watchClusterSecret } from "./watch-cluster-secret.js";

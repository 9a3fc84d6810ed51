/**
 * @internal
 * The shape of `@irsa-anywhere/kube` that keys uses, written here so that keys' own types (and
 * its published .d.ts files) never name kube's or client-node's: a library user who only turns
 * PEM into a JWKS installs and type-checks neither.
 */
interface KubeModule {
  readClusterSecret(options: {
    namespace: string;
    name: string;
    kubeconfig?: string | undefined;
    context?: string | undefined;
    timeoutMs?: number | undefined;
  }): Promise<Record<string, Uint8Array>>;
  readClusterJwks(options: {
    kubeconfig?: string | undefined;
    context?: string | undefined;
    timeoutMs?: number | undefined;
  }): Promise<{ text: string; url: string }>;
}

/**
 * @internal
 * Loads `@irsa-anywhere/kube` (and with it the Kubernetes client) on first use only: it is an
 * optional peer dependency, installed by those who read a cluster.
 */
export async function loadKube(): Promise<KubeModule> {
  // The declared return type keeps kube's own types out of keys' .d.ts files. A literal name,
  // so that a bundler (the CLI's) bundles kube with the one copy of @irsa-anywhere/errors that
  // `instanceof IrsaAnywhereError` needs.
  return import("@irsa-anywhere/kube");
}

import { firstLine } from "@irsa-anywhere/errors";
import { type KubeconfigOptions, loadKubeconfig } from "./lib/kubeconfig.js";

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** How to stop a {@link watchClusterSecret}. */
export interface SecretWatch {
  close(): void;
}

export interface SecretWatchOptions extends KubeconfigOptions {
  /** The secret's namespace, e.g. `eksa-system`. */
  namespace: string;
  /** The secret's name, e.g. `prod-sa`. */
  name: string;
}

/**
 * Calls `onChange` whenever the secret is created, changed or deleted,
 * through a Kubernetes watch on that one secret (the service account needs `watch` on it), so
 * that a server picks up a rotated key at once instead of at its next poll. It also calls it
 * once each time the watch (re)connects, as the API server then lists the secret. A watch the API
 * server ends, or that fails, is opened again after 1 s, backing off to 30 s while it keeps
 * failing; `onError` hears each failure, in one line.
 *
 * @example
 * const reload = async () => console.log("prod-sa changed: read its keys again");
 * const watch = watchClusterSecret({ namespace: "eksa-system", name: "prod-sa" }, () => void reload());
 * process.once("SIGTERM", () => watch.close());
 */
export function watchClusterSecret(
  options: SecretWatchOptions,
  onChange: () => void,
  onError: (message: string) => void = () => {},
): SecretWatch {
  const { namespace, name } = options;
  let closed = false;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let retryMs = FIRST_RETRY_MS;
  const describe = (error: unknown) => {
    const status = (error as { statusCode?: unknown }).statusCode;
    const hint =
      status === 401 || status === 403
        ? `; grant "watch" on secret ${name} in ${namespace} (examples/serve/role.yaml), meanwhile it is read every refresh`
        : "";
    return `cannot watch secret ${namespace}/${name}: ${firstLine(error)}${typeof status === "number" ? ` (HTTP ${status})` : ""}${hint}`;
  };

  const again = () => {
    if (closed) return;
    timer = setTimeout(open, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };
  const open = async () => {
    if (closed) return;
    try {
      const { k8s, config } = await loadKubeconfig(options);
      const watch = new k8s.Watch(config);
      controller = await watch.watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
        { fieldSelector: `metadata.name=${name}` },
        (phase) => {
          if (phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED") {
            retryMs = FIRST_RETRY_MS;
            onChange();
          }
        },
        (error: unknown) => {
          if (closed) return;
          if (error) onError(describe(error));
          again();
        },
      );
      if (closed) controller.abort();
    } catch (error) {
      if (closed) return;
      onError(describe(error));
      again();
    }
  };
  void open();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}

import { dirname } from "node:path";
import {
  firstLine,
  INPUT_LIMITS,
  type InputError,
  measureNesting,
  quoteInput,
  readInput,
} from "@irsa-anywhere/errors";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeError } from "../errors.js";

/** Kubeconfigs nest about five levels deep, in about ten lines per cluster, context and user. */
const MAX_KUBECONFIG_DEPTH = 100;
const MAX_KUBECONFIG_ENTRIES = 50_000;

/** How to reach a cluster: a kubeconfig file and context, or the defaults. */
export interface KubeconfigOptions {
  /** A kubeconfig file; default `KUBECONFIG`, `~/.kube/config`, or the in-cluster config in a pod. */
  kubeconfig?: string | undefined;
  /** A context of the kubeconfig; default its current context. */
  context?: string | undefined;
}

/**
 * Loads the Kubernetes client (on first use, so that callers who never talk to a cluster never
 * pay for it) and the kubeconfig as kubectl would, and checks that it names a server: a missing
 * kubeconfig is an error here, not the client's silent fallback to http://localhost:8080.
 *
 * @throws {KubeError} `ERR_KUBECONFIG_INVALID`.
 *
 * @internal The other files of this package call it; callers outside get plain data from them.
 */
export async function loadKubeconfig(options: KubeconfigOptions) {
  const k8s = await import("@kubernetes/client-node");
  const config = new k8s.KubeConfig();
  // Read here, within its cap, rather than by the client, which would read a FIFO or /dev/zero for ever.
  const text =
    options.kubeconfig === undefined
      ? undefined
      : await readInput(options.kubeconfig, {
          maxBytes: INPUT_LIMITS.kubeconfig,
          what: "--kubeconfig",
        }).catch((error: InputError) => {
          throw new KubeError("ERR_KUBECONFIG_INVALID", error.message, { cause: error });
        });
  const measured = text === undefined ? undefined : measureNesting(text);
  if (measured && (measured.depth > MAX_KUBECONFIG_DEPTH || measured.entries > MAX_KUBECONFIG_ENTRIES)) {
    throw new KubeError(
      "ERR_KUBECONFIG_INVALID",
      `the kubeconfig ${options.kubeconfig} nests more than ${MAX_KUBECONFIG_DEPTH} levels deep or has more than ${MAX_KUBECONFIG_ENTRIES} lines or entries, which no kubeconfig does; check --kubeconfig`,
    );
  }
  try {
    if (text === undefined || options.kubeconfig === undefined) config.loadFromDefault();
    else {
      config.loadFromString(text);
      // As loadFromFile does: certificate and key paths are relative to the kubeconfig's directory.
      config.makePathsAbsolute(dirname(options.kubeconfig));
    }
  } catch (error) {
    throw new KubeError(
      "ERR_KUBECONFIG_INVALID",
      `cannot load the kubeconfig ${options.kubeconfig ?? "(KUBECONFIG or ~/.kube/config)"}: ${firstLine(error)}; check --kubeconfig`,
    );
  }
  if (options.context !== undefined) {
    if (!config.getContextObject(options.context)) {
      throw new KubeError(
        "ERR_KUBECONFIG_INVALID",
        `the kubeconfig has no context ${quoteInput(options.context)}; list them with kubectl config get-contexts`,
      );
    }
    config.setCurrentContext(options.context);
  }
  const server =
    options.kubeconfig === undefined && isNoConfigFallback(config)
      ? undefined
      : config.getCurrentCluster()?.server;
  if (!server) {
    throw new KubeError(
      "ERR_KUBECONFIG_INVALID",
      "the kubeconfig names no cluster to talk to; give --kubeconfig (and --context) for the cluster, or run inside it",
    );
  }
  return { k8s, config, server };
}

/**
 * With no KUBECONFIG, no ~/.kube/config and no pod service account, `loadFromDefault` does not
 * fail: it falls back to http://localhost:8080 under a context it names "loaded-context", which
 * every request then refuses (plain HTTP). Spot that fallback so the user hears what is missing.
 */
function isNoConfigFallback(config: KubeConfig): boolean {
  return (
    config.getCurrentContext() === "loaded-context" &&
    config.getCurrentCluster()?.server === "http://localhost:8080"
  );
}

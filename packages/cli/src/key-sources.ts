import {
  INPUT_LIMITS,
  type PublicSigningKey,
  publicKeysFromCluster,
  publicKeysFromClusterJwks,
  publicKeysFromPem,
  publicKeysFromSecretManifest,
  readInput,
} from "@irsa-anywhere/keys";
import type { Argv } from "yargs";
import { UsageError } from "./usage-error.js";

export interface KeySourceArgs {
  /** One value, or several when the option is repeated. */
  key?: string | string[] | undefined;
  "secret-file"?: string | string[] | undefined;
  cluster?: string | undefined;
  "cluster-jwks"?: boolean | undefined;
  namespace: string;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** The command's --timeout: no Kubernetes request waits longer. */
  timeoutMs?: number | undefined;
}

/** How long one Kubernetes request may wait, unless the command's --timeout is shorter. */
const KUBERNETES_TIMEOUT_MS = 30_000;

/** The options that name where the cluster's signing key comes from; shared by every command. */
export function keySourceOptions<T>(yargs: Argv<T>) {
  return yargs
    .option("key", {
      type: "string",
      // nargs 1, not array: yargs takes "-" (stdin) as the value only this way; repeats still collect.
      nargs: 1,
      describe: "PEM file: public key, certificate, or private key (public half used); - for stdin",
      group: "Key sources (combinable, repeatable):",
    })
    .option("secret-file", {
      type: "string",
      nargs: 1,
      describe: "kubectl get secret <cluster>-sa -n eksa-system -o json (or yaml) output",
      group: "Key sources (combinable, repeatable):",
    })
    .option("cluster", {
      type: "string",
      requiresArg: true,
      describe: "Read the <cluster>-sa secret through the kubeconfig",
      group: "Key sources (combinable, repeatable):",
    })
    .option("cluster-jwks", {
      type: "boolean",
      describe: "Read the public keys the API server serves at /openid/v1/jwks (no secret needed)",
      group: "Key sources (combinable, repeatable):",
    })
    .option("namespace", {
      type: "string",
      default: "eksa-system",
      requiresArg: true,
      describe: "Namespace of the <cluster>-sa secret",
      group: "Key sources (combinable, repeatable):",
    })
    .option("kubeconfig", {
      type: "string",
      requiresArg: true,
      describe: "Kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)",
      group: "Key sources (combinable, repeatable):",
    })
    .option("context", {
      type: "string",
      requiresArg: true,
      describe: "Kubeconfig context (default: its current context)",
      group: "Key sources (combinable, repeatable):",
    });
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());

export function hasKeySource(args: KeySourceArgs): boolean {
  return (
    list(args.key).length > 0 ||
    list(args["secret-file"]).length > 0 ||
    args.cluster !== undefined ||
    args["cluster-jwks"] === true
  );
}

/**
 * Reads every key source named on the command line: the cluster's secret, then the API
 * server's JWKS, then secret files,
 * then PEM files, each in the order given. The first key read from a private key is the current
 * signing key, otherwise the first key.
 */
export async function readKeySources(args: KeySourceArgs): Promise<PublicSigningKey[]> {
  if (!hasKeySource(args)) {
    throw new UsageError(
      "no key source given; add --key FILE, --secret-file FILE, --cluster NAME or --cluster-jwks",
    );
  }
  const stdinUses = [...list(args.key), ...list(args["secret-file"])].filter((f) => f === "-").length;
  if (stdinUses > 1)
    throw new UsageError("standard input (-) can be read only once; name the other inputs as files");
  const found: PublicSigningKey[] = [];
  if (args.cluster !== undefined) {
    found.push(
      ...(await publicKeysFromCluster({
        cluster: args.cluster,
        namespace: args.namespace,
        ...(args.kubeconfig === undefined ? {} : { kubeconfig: args.kubeconfig }),
        ...(args.context === undefined ? {} : { context: args.context }),
        timeoutMs: kubernetesTimeoutMs(args),
      })),
    );
  }
  if (args["cluster-jwks"]) {
    found.push(
      ...(await publicKeysFromClusterJwks({
        ...(args.kubeconfig === undefined ? {} : { kubeconfig: args.kubeconfig }),
        ...(args.context === undefined ? {} : { context: args.context }),
        timeoutMs: kubernetesTimeoutMs(args),
      })),
    );
  }
  for (const file of list(args["secret-file"])) {
    const text = await readInput(file, {
      maxBytes: INPUT_LIMITS.manifest,
      what: "--secret-file",
      stdin: process.stdin,
    });
    found.push(...(await publicKeysFromSecretManifest(text, displayName(file))));
  }
  for (const file of list(args.key)) {
    const text = await readInput(file, { maxBytes: INPUT_LIMITS.pem, what: "--key", stdin: process.stdin });
    found.push(...publicKeysFromPem(text, displayName(file)));
  }
  return found;
}

export function kubernetesTimeoutMs(args: KeySourceArgs): number {
  return Math.min(KUBERNETES_TIMEOUT_MS, args.timeoutMs ?? KUBERNETES_TIMEOUT_MS);
}

function displayName(file: string): string {
  return file === "-" ? "standard input" : file;
}

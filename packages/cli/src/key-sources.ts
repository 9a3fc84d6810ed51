import {
  hasKeySource as hasAnyKeySource,
  type KeySourceSpec,
  type KeySources,
  type PublicSigningKey,
  readKeySources,
} from "@irsa-anywhere/keys";
import type { Argv } from "yargs";
import { repeated } from "./repeated-options.js";
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

/** The key sources the command line names, as `readKeySources` takes them. */
export function keySourceSpec(args: KeySourceArgs): KeySourceSpec {
  const pemFiles = repeated(args.key);
  const secretFiles = repeated(args["secret-file"]);
  return {
    pemFiles,
    secretFiles,
    cluster: args.cluster,
    namespace: args.namespace,
    clusterJwks: args["cluster-jwks"],
    kubeconfig: args.kubeconfig,
    context: args.context,
    timeoutMs: args.timeoutMs,
    // Only when `-` is named: the first touch of process.stdin loads Node's stream modules, a tenth
    // of a cold start of `keys` (bench/cold-start.mjs), for input nothing reads.
    stdin: [...pemFiles, ...secretFiles].includes("-") ? process.stdin : undefined,
  };
}

export function hasKeySource(args: KeySourceArgs): boolean {
  return hasAnyKeySource(keySourceSpec(args));
}

/**
 * Reads every key source named on the command line through `readKeySources`, after the checks
 * that are about the command line: a source is named, and `-` (standard input) at most once.
 */
export async function readKeySourceArgs(args: KeySourceArgs): Promise<KeySources> {
  const spec = keySourceSpec(args);
  if (!hasAnyKeySource(spec)) {
    throw new UsageError(
      "no key source given; add --key FILE, --secret-file FILE, --cluster NAME or --cluster-jwks",
    );
  }
  checkStdinOnce(spec);
  return readKeySources(spec);
}

/** Standard input holds one input: `-` may be named once among the files. */
export function checkStdinOnce(spec: KeySourceSpec): void {
  const stdinUses = [...(spec.pemFiles ?? []), ...(spec.secretFiles ?? [])].filter((f) => f === "-").length;
  if (stdinUses > 1)
    throw new UsageError("standard input (-) can be read only once; name the other inputs as files");
}

/** The public keys of every key source named on the command line (see {@link readKeySourceArgs}). */
export async function readKeys(args: KeySourceArgs): Promise<PublicSigningKey[]> {
  return (await readKeySourceArgs(args)).keys;
}

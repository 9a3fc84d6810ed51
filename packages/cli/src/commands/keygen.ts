import { join } from "node:path";
import {
  currentSigningKey,
  distinctKeys,
  generateSigningKey,
  type PublicSigningKey,
  type SigningKeyType,
  signingKeySecretManifest,
} from "@irsa-anywhere/keys";
import { withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { jsonOptions } from "../json-output.js";
import { hasKeySource, readKeys } from "../key-sources.js";
import { makeKeyDirectory, writeNewFiles } from "../new-files.js";
import { repeated } from "../repeated-options.js";
import { UsageError } from "../usage-error.js";

export interface KeygenArgs {
  type: SigningKeyType;
  "out-dir"?: string | undefined;
  "secret-manifest"?: string | undefined;
  name?: string | undefined;
  namespace: string;
  /** PEM files whose every public key stays in the new secret's `tls.crt`. */
  "keep-public-key"?: string | string[] | undefined;
  /** Secret files whose signing key stays in the new secret's `tls.crt`. */
  "secret-file"?: string | string[] | undefined;
  /** The cluster whose `<cluster>-sa` signing key stays in the new secret's `tls.crt`. */
  cluster?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  json: boolean;
}

export const keygenCommand = defineCommand({
  command: "keygen",
  describe: "Generate a new service-account signing key pair (for a rotation)",
  builder: (y) =>
    jsonOptions(withExitCodes(y), "Print the kid and files as JSON")
      .option("type", {
        choices: ["rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384", "ec-p521"] as const,
        default: "rsa-2048" as const,
        describe: "Key type",
      })
      .option("out-dir", {
        type: "string",
        requiresArg: true,
        describe: "Write sa.key (mode 0600) and sa.pub into DIR",
      })
      .option("secret-manifest", {
        type: "string",
        requiresArg: true,
        describe:
          "Write a Secret manifest (mode 0600) shaped like the <cluster>-sa secret (also, or instead)",
      })
      .option("name", {
        type: "string",
        requiresArg: true,
        describe: "The secret's name, with --secret-manifest (default <cluster>-sa with --cluster)",
      })
      .option("namespace", {
        type: "string",
        default: "eksa-system",
        requiresArg: true,
        describe: "The secret's namespace (written, and read with --cluster)",
      })
      .option("keep-public-key", {
        type: "string",
        nargs: 1,
        describe:
          "PEM file (public key, certificate or private key): its public keys stay in the manifest's tls.crt beside the new one; repeatable",
        group: "Keep the previous key (with --secret-manifest):",
      })
      .option("cluster", {
        type: "string",
        requiresArg: true,
        describe:
          "Keep the key the <cluster>-sa secret signs with now (workload clusters: the management cluster's kubeconfig)",
        group: "Keep the previous key (with --secret-manifest):",
      })
      .option("secret-file", {
        type: "string",
        nargs: 1,
        describe: "Keep the key this secret (kubectl get secret -o json or yaml) signs with; repeatable",
        group: "Keep the previous key (with --secret-manifest):",
      })
      .option("kubeconfig", {
        type: "string",
        requiresArg: true,
        describe: "Kubeconfig file for --cluster (default: KUBECONFIG, ~/.kube/config, in-cluster)",
        group: "Keep the previous key (with --secret-manifest):",
      })
      .option("context", {
        type: "string",
        requiresArg: true,
        describe: "Kubeconfig context for --cluster (default: its current context)",
        group: "Keep the previous key (with --secret-manifest):",
      })
      .example("$0 keygen --out-dir next/", "next/sa.key and next/sa.pub; prints the new kid")
      .example(
        "$0 keygen --out-dir next/ --secret-manifest next/prod-sa.yaml --cluster prod --kubeconfig mgmt/mgmt-eks-a-cluster.kubeconfig",
        "A rotation on EKS Anywhere: the new pair, and prod-sa with the old public key kept in tls.crt",
      ),
  handler: (args) => runKeygen(args),
});

/**
 * Writes a new signing key pair: PEM files (the private one 0600) or a Secret manifest (0600)
 * in the shape of the `<cluster>-sa` secret. The private key goes only into those files; stdout
 * gets the kid and the file names.
 */
export async function runKeygen(args: KeygenArgs): Promise<void> {
  if (args["out-dir"] === undefined && args["secret-manifest"] === undefined) {
    throw new UsageError(
      "say where the key goes: --out-dir DIR (sa.key and sa.pub), --secret-manifest FILE, or both",
    );
  }
  const keeps =
    repeated(args["keep-public-key"]).length > 0 ||
    repeated(args["secret-file"]).length > 0 ||
    args.cluster !== undefined;
  if (keeps && args["secret-manifest"] === undefined) {
    throw new UsageError(
      "--keep-public-key, --secret-file and --cluster put the previous public key in the Secret manifest's tls.crt; add --secret-manifest FILE",
    );
  }
  const name = args.name ?? (args.cluster === undefined ? undefined : `${args.cluster}-sa`);
  if (args["secret-manifest"] !== undefined && !name) {
    throw new UsageError(
      "--secret-manifest needs the secret's --name (or --cluster NAME for NAME-sa), e.g. prod-sa",
    );
  }
  // Everything that can fail on the user's input is read before a key is made or a file written.
  const previous = keeps ? await previousKeys(args) : [];
  const pair = generateSigningKey(args.type);
  const manifest =
    args["secret-manifest"] === undefined || name === undefined
      ? undefined
      : signingKeySecretManifest({
          name,
          namespace: args.namespace,
          privateKeyPem: pair.privateKeyPem,
          publicKeys: distinctKeys([pair.key, ...previous]),
        });
  const files: Array<[string, string, number]> = [];
  const written: string[] = [];
  if (args["out-dir"] !== undefined) {
    await makeKeyDirectory(args["out-dir"]);
    files.push(
      [join(args["out-dir"], "sa.key"), pair.privateKeyPem, 0o600],
      [join(args["out-dir"], "sa.pub"), pair.publicKeyPem, 0o644],
    );
  }
  if (manifest !== undefined && args["secret-manifest"] !== undefined) {
    files.push([args["secret-manifest"], manifest, 0o600]);
  }
  await writeNewFiles(files);
  written.push(...files.map(([file]) => file));
  const kept = previous.map((key) => key.kid);
  const summary = { kid: pair.key.kid, alg: pair.key.alg, type: args.type, files: written, kept };
  process.stdout.write(
    args.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `kid: ${summary.kid}\nalg: ${summary.alg}\nwrote: ${written.join(", ")}\n${kept.length > 0 ? `kept in tls.crt: ${kept.join(", ")}\n` : ""}`,
  );
}

/**
 * The public keys the API server must go on verifying with: of a secret (the cluster's or a
 * file), the key it signs with, not every key its tls.crt still lists from earlier rotations;
 * of a PEM file, every key in it. The key readers are the ones every key source uses.
 */
async function previousKeys(args: KeygenArgs): Promise<PublicSigningKey[]> {
  const common = {
    namespace: args.namespace,
    ...(args.kubeconfig === undefined ? {} : { kubeconfig: args.kubeconfig }),
    ...(args.context === undefined ? {} : { context: args.context }),
  };
  const sources = [
    ...(args.cluster === undefined ? [] : [{ ...common, cluster: args.cluster }]),
    ...repeated(args["secret-file"]).map((file) => ({ ...common, "secret-file": file })),
  ];
  const keys: PublicSigningKey[] = [];
  for (const source of sources) {
    if (hasKeySource(source)) keys.push(currentSigningKey(await readKeys(source)));
  }
  for (const file of repeated(args["keep-public-key"])) {
    keys.push(...(await readKeys({ ...common, key: file })));
  }
  return distinctKeys(keys);
}

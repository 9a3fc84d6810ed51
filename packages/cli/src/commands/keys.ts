import { buildJwks, serializeJwks } from "@irsa-anywhere/keys";
import { withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { emit } from "../emit.js";
import { EMPTY_KID_OPTION } from "../empty-kid-option.js";
import { type KeySourceArgs, keySourceOptions, readKeys } from "../key-sources.js";
import { OUT_OPTION } from "../out-option.js";

export interface KeysArgs extends KeySourceArgs {
  out?: string | undefined;
  "empty-kid": boolean;
}

export const keysCommand = defineCommand({
  command: "keys",
  describe: "Print the JWKS (keys.json) for the cluster's service-account signing key",
  builder: (y) =>
    withExitCodes(keySourceOptions(y))
      .option("empty-kid", EMPTY_KID_OPTION)
      .option("out", OUT_OPTION)
      .example("$0 keys --key sa.pub > keys.json", "JWKS of a public key file")
      .example(
        "$0 keys --cluster prod --kubeconfig prod.kubeconfig",
        "JWKS of the prod-sa secret in eksa-system",
      )
      .example(
        "kubectl get secret prod-sa -n eksa-system -o json | $0 keys --secret-file -",
        "From kubectl's output",
      ),
  // Imports its packages statically, unlike the other commands: keys is the quick command scripts
  // run, and each lazily loaded chunk costs a cold start a few milliseconds (bench/cold-start.mjs).
  handler: (args) => runKeys(args),
});

export async function runKeys(args: KeysArgs): Promise<void> {
  const keys = await readKeys(args);
  await emit(serializeJwks(buildJwks(keys, { emptyKidTwin: args["empty-kid"] })), args.out);
}

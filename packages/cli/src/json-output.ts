import type { Argv } from "yargs";
import { usageFailure } from "./usage-failure.js";

/**
 * `--json`, and `-o json` / `--output json` for it, as users of aws and kubectl write it. Any other
 * `-o` is refused: there is one data format.
 */
export function jsonOptions<T>(yargs: Argv<T>, describe: string) {
  return yargs
    .option("json", { type: "boolean", default: false, describe })
    .option("output", {
      alias: "o",
      type: "string",
      requiresArg: true,
      describe: "json: the same as --json, as aws and kubectl take it",
    })
    .middleware((args) => {
      if (args.output === undefined) return;
      if (args.output !== "json") {
        usageFailure(`-o/--output takes only json (the same as --json), not ${JSON.stringify(args.output)}`);
      }
      (args as { json: boolean }).json = true;
    });
}

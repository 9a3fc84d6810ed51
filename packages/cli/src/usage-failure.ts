import { hideBin } from "yargs/helpers";
import { EXIT_USAGE } from "./exit-codes.js";
import { failWith } from "./failure.js";

/** Each top-level command's name, with the names of its own commands (rotate's phases). */
let knownCommands: ReadonlyMap<string, readonly string[]> = new Map();

/** Called by main.ts with the commands it registered, so that a message can point at their help. */
export function rememberCommands(commands: ReadonlyMap<string, readonly string[]>): void {
  knownCommands = commands;
}

/** A mistake on the command line: one line, pointing at the help page of the command it was in. */
export function usageFailure(message: string): never {
  const words = hideBin(process.argv).filter((argument) => !argument.startsWith("-"));
  const word = words[0];
  const subcommands = word === undefined ? undefined : knownCommands.get(word);
  const known = subcommands !== undefined;
  // A rotate phase has a help page of its own: point at it.
  const phase = words[1] !== undefined && subcommands?.includes(words[1]) ? `${words[1]} ` : "";
  // Some yargs messages span lines ("Invalid values:\n  Argument: ..."): one line, always.
  let line = message.replace(/:?\s*\n\s*/g, ": ").replace(/:\s*:/g, ":");
  if (word !== undefined && !known && /^Did you mean|^Unknown argument/.test(line)) {
    line = `unknown command ${word}${line.startsWith("Did you mean") ? `; d${line.slice(1)}` : ""}`;
  }
  // yargs names an unknown --next-key twice, as itself and as its camelCase alias nextKey.
  line = line.replace(/^Unknown arguments?: (.*)$/, (_all, list: string) => {
    const names = list.split(", ").filter((name) => !/[A-Z]/.test(name));
    return `Unknown argument${names.length === 1 ? "" : "s"}: ${names.join(", ")}`;
  });
  failWith(`${line}; see irsa-anywhere ${known ? `${word} ${phase}` : ""}--help`, EXIT_USAGE);
}

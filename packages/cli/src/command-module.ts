import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import type { LogFormat } from "./log.js";

/** The options main.ts gives every command (`--log-format`, `--timeout`), and what its middleware adds. */
export interface GlobalArgs {
  "log-format": LogFormat;
  timeout: string;
  /** Set from --timeout by the middleware before any handler runs. */
  timeoutMs?: number | undefined;
}

/**
 * A command as data: its name, its line in the help, its options and its handler, in one yargs
 * command module. Only a helper for the types: the handler's arguments are what the builder
 * declares.
 */
export function defineCommand<U>(module: {
  command: string;
  describe: string;
  builder: (yargs: Argv<GlobalArgs>) => Argv<U>;
  handler: (args: ArgumentsCamelCase<U>) => void | Promise<void>;
}): CommandModule<GlobalArgs, U> & { command: string } {
  return module;
}

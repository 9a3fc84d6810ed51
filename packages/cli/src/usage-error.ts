import { CliError } from "./errors.js";

/** A mistake in how the command was called; the CLI prints it with a pointer to `--help`, exit 2. */
export class UsageError extends CliError {
  override readonly name = "UsageError";

  constructor(message: string) {
    super("ERR_USAGE", message);
  }
}

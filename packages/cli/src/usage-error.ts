/** A mistake in how the command was called; the CLI prints it with a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "ERR_USAGE";
  readonly isInputError = true;
}

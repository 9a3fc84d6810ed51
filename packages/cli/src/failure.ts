import { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";
import { paint } from "./terminal.js";

/** One line on stderr and the exit code; the CLI's entry points are the only callers of exit. */
export function failWith(message: string, code: number): never {
  process.stderr.write(`${paint(process.stderr, 31, "irsa-anywhere:")} ${message}\n`);
  process.exit(code);
}

/**
 * Errors of our packages carry `isInputError` and get their one line: exit 2 for the user's input,
 * 1 for what went wrong at run time. Anything else is a bug and shows in full.
 */
export function reportError(error: unknown): never {
  if (error instanceof Error && "isInputError" in error && typeof error.isInputError === "boolean") {
    failWith(error.message, error.isInputError ? EXIT_USAGE : EXIT_FAILURE);
  }
  process.stderr.write(`irsa-anywhere: unexpected error, please report it:\n`);
  console.error(error);
  process.exit(EXIT_FAILURE);
}

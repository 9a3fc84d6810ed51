import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/** Stable codes of the failures the CLI itself finds, beside those of the packages. */
export type CliErrorCode = "ERR_USAGE" | "ERR_OUTPUT_UNWRITABLE" | "ERR_INPUT_CHANGED";

const faults: FaultTable<CliErrorCode> = {
  ERR_USAGE: "input",
  ERR_OUTPUT_UNWRITABLE: "input",
  ERR_INPUT_CHANGED: "environment",
};

/** A failure the CLI finds itself: one line on stderr, and the exit code of its fault. */
export class CliError extends IrsaAnywhereError<CliErrorCode> {
  override readonly name: string = "CliError";

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}

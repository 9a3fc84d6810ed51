import { type FaultTable, IrsaAnywhereError } from "./irsa-anywhere-error.js";

/** Stable codes of reading a user's input file; assert on these, not on message text. */
export type InputErrorCode = "ERR_INPUT_UNREADABLE" | "ERR_INPUT_TOO_LARGE";

const faults: FaultTable<InputErrorCode> = {
  ERR_INPUT_UNREADABLE: "input",
  ERR_INPUT_TOO_LARGE: "input",
};

/**
 * What {@link readInput} throws: the file is missing, not a regular file, or over its cap. It sits
 * here, beside the reader every package shares, rather than in one of those packages.
 *
 * @example
 * try {
 *   await readInput("sa.pub", { maxBytes: INPUT_LIMITS.pem, what: "--key" });
 * } catch (error) {
 *   if (error instanceof InputError) console.error(error.message);
 *   else throw error;
 * }
 */
export class InputError extends IrsaAnywhereError<InputErrorCode> {
  override readonly name = "InputError";

  constructor(code: InputErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}

/** Stable codes for every failure of this package; assert on these, not on message text. */
export type ServeErrorCode =
  | "ERR_LISTEN_ADDRESS_INVALID"
  | "ERR_PLAIN_HTTP_REFUSED"
  | "ERR_DURATION_OUT_OF_RANGE"
  | "ERR_LISTEN_FAILED"
  | "ERR_TLS_FILES_UNREADABLE"
  | "ERR_TLS_INVALID"
  | "ERR_DOCUMENTS_NOT_FOUND"
  | "ERR_DOCUMENTS_INVALID"
  | "ERR_SERVER_CLOSED";

/** Codes caused by the caller's input (CLI exit code 2); the rest are run-time failures (exit 1). */
const inputCodes: ReadonlySet<ServeErrorCode> = new Set([
  "ERR_LISTEN_ADDRESS_INVALID",
  "ERR_PLAIN_HTTP_REFUSED",
  "ERR_DURATION_OUT_OF_RANGE",
  "ERR_TLS_FILES_UNREADABLE",
  "ERR_TLS_INVALID",
  "ERR_DOCUMENTS_NOT_FOUND",
  "ERR_DOCUMENTS_INVALID",
]);

/**
 * The one error class of `@irsa-anywhere/server`. Its message is one line that says what was
 * wrong and what to do; it never contains key material.
 */
export class ServeError extends Error {
  override readonly name = "ServeError";
  readonly code: ServeErrorCode;
  /** `true` when the caller's input is at fault (CLI exit 2), `false` otherwise (exit 1). */
  readonly isInputError: boolean;

  constructor(code: ServeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.isInputError = inputCodes.has(code);
  }
}

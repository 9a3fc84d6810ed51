import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

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

const faults: FaultTable<ServeErrorCode> = {
  ERR_LISTEN_ADDRESS_INVALID: "input",
  ERR_PLAIN_HTTP_REFUSED: "input",
  ERR_DURATION_OUT_OF_RANGE: "input",
  ERR_LISTEN_FAILED: "environment",
  ERR_TLS_FILES_UNREADABLE: "input",
  ERR_TLS_INVALID: "input",
  ERR_DOCUMENTS_NOT_FOUND: "input",
  ERR_DOCUMENTS_INVALID: "input",
  ERR_SERVER_CLOSED: "environment",
};

/**
 * The one error class of `@irsa-anywhere/server`. Its message is one line that says what was
 * wrong and what to do; it never contains key material.
 *
 * @example
 * try {
 *   parseListenAddress("localhost");
 * } catch (error) {
 *   if (error instanceof ServeError && error.code === "ERR_LISTEN_ADDRESS_INVALID") console.error(error.message);
 *   else throw error;
 * }
 */
export class ServeError extends IrsaAnywhereError<ServeErrorCode> {
  override readonly name = "ServeError";

  constructor(code: ServeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}

import { type FaultTable, IrsaAnywhereError } from "@irsa-anywhere/errors";

/** Stable codes for every failure of this package; assert on these, not on message text. */
export type KeysErrorCode =
  | "ERR_KEY_UNREADABLE"
  | "ERR_KEY_NOT_FOUND"
  | "ERR_KEY_ENCRYPTED"
  | "ERR_KEY_MALFORMED"
  | "ERR_KEY_UNSUPPORTED"
  | "ERR_KEY_TOO_SMALL"
  | "ERR_KID_CONFLICT"
  | "ERR_JWK_PRIVATE_MEMBER"
  | "ERR_JWKS_INVALID"
  | "ERR_SECRET_INVALID"
  | "ERR_SECRET_NAME_INVALID";

const faults: FaultTable<KeysErrorCode> = {
  ERR_KEY_UNREADABLE: "input",
  ERR_KEY_NOT_FOUND: "input",
  ERR_KEY_ENCRYPTED: "input",
  ERR_KEY_MALFORMED: "input",
  ERR_KEY_UNSUPPORTED: "input",
  ERR_KEY_TOO_SMALL: "input",
  ERR_KID_CONFLICT: "input",
  // Exit 1 since the start, though a JWKS read as input can raise it too; changing it is a change
  // of exit code, left for a decision of its own.
  ERR_JWK_PRIVATE_MEMBER: "environment",
  ERR_JWKS_INVALID: "input",
  ERR_SECRET_INVALID: "input",
  ERR_SECRET_NAME_INVALID: "input",
};

/**
 * The one error class of `@irsa-anywhere/keys`. Its message is a single line that says what
 * was wrong and what to do; it never contains key material.
 *
 * @example
 * const text = await readFile("sa.pub", "utf8");
 * try {
 *   publicKeysFromPem(text, "sa.pub");
 * } catch (error) {
 *   if (error instanceof KeysError && error.code === "ERR_KEY_TOO_SMALL") console.error(error.message);
 *   else throw error;
 * }
 */
export class KeysError extends IrsaAnywhereError<KeysErrorCode> {
  override readonly name = "KeysError";

  constructor(code: KeysErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}

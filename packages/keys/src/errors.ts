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
  | "ERR_SECRET_NAME_INVALID"
  | "ERR_CLUSTER_UNREACHABLE"
  | "ERR_CLUSTER_FORBIDDEN"
  | "ERR_CLUSTER_SECRET_NOT_FOUND"
  | "ERR_KUBECONFIG_INVALID"
  | "ERR_INPUT_UNREADABLE"
  | "ERR_INPUT_TOO_LARGE";

/** Codes caused by the caller's input (CLI exit code 2); the rest are run-time failures (exit 1). */
const inputCodes: ReadonlySet<KeysErrorCode> = new Set([
  "ERR_KEY_UNREADABLE",
  "ERR_KEY_NOT_FOUND",
  "ERR_KEY_ENCRYPTED",
  "ERR_KEY_MALFORMED",
  "ERR_KEY_UNSUPPORTED",
  "ERR_KEY_TOO_SMALL",
  "ERR_KID_CONFLICT",
  "ERR_JWKS_INVALID",
  "ERR_SECRET_INVALID",
  "ERR_SECRET_NAME_INVALID",
  "ERR_CLUSTER_SECRET_NOT_FOUND",
  "ERR_KUBECONFIG_INVALID",
  "ERR_INPUT_UNREADABLE",
  "ERR_INPUT_TOO_LARGE",
]);

/**
 * The one error class of `@irsa-anywhere/keys`. Its message is a single line that says what
 * was wrong and what to do; it never contains key material.
 */
export class KeysError extends Error {
  override readonly name = "KeysError";
  readonly code: KeysErrorCode;
  /** `true` when the caller's input is at fault, `false` for a failure of the environment. */
  readonly isInputError: boolean;

  constructor(code: KeysErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.isInputError = inputCodes.has(code);
  }
}

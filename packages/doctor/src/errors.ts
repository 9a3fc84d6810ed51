/** Stable codes for every failure of this package; assert on these, not on message text. */
export type DoctorErrorCode =
  | "ERR_SERVICE_ACCOUNT_INVALID"
  | "ERR_ROLE_ARN_INVALID"
  | "ERR_ROLE_NOT_FOUND"
  | "ERR_TRUST_POLICY_INVALID"
  | "ERR_TRUST_POLICY_UNMERGEABLE"
  | "ERR_ACCOUNT_ID_INVALID"
  | "ERR_AUDIENCE_INVALID"
  | "ERR_SMOKE_TEST_INCOMPLETE"
  | "ERR_SIGNING_KEY_MISSING"
  | "ERR_SIGNING_KEY_INVALID"
  | "ERR_KUBECONFIG_INVALID"
  | "ERR_CLUSTER_UNREACHABLE"
  | "ERR_CLUSTER_FORBIDDEN"
  | "ERR_CLUSTER_SECRET_NOT_FOUND"
  | "ERR_AWS_NO_CREDENTIALS"
  | "ERR_AWS_ACCESS_DENIED"
  | "ERR_AWS_REQUEST_FAILED";

/** Codes caused by the caller's input (CLI exit code 2); the rest are run-time failures (exit 1). */
const inputCodes: ReadonlySet<DoctorErrorCode> = new Set([
  "ERR_SERVICE_ACCOUNT_INVALID",
  "ERR_ROLE_ARN_INVALID",
  "ERR_ROLE_NOT_FOUND",
  "ERR_ACCOUNT_ID_INVALID",
  "ERR_AUDIENCE_INVALID",
  "ERR_SMOKE_TEST_INCOMPLETE",
  "ERR_SIGNING_KEY_MISSING",
  "ERR_SIGNING_KEY_INVALID",
  "ERR_KUBECONFIG_INVALID",
  "ERR_CLUSTER_SECRET_NOT_FOUND",
]);

/**
 * The one error class of `@irsa-anywhere/doctor`. Its message is one line that says what was
 * wrong and what to do; it never holds key material, credentials or a token.
 *
 * A broken link of the IRSA chain is not an error: `diagnose()` reports it as a failed check.
 * Errors are for calls that cannot be made as given (a malformed role ARN, a smoke test without
 * a signing key) and, for `trustPolicy()`, an AWS account that cannot be found.
 */
export class DoctorError extends Error {
  override readonly name = "DoctorError";
  readonly code: DoctorErrorCode;
  /** `true` when the caller's input is at fault (CLI exit 2), `false` otherwise (exit 1). */
  readonly isInputError: boolean;

  constructor(code: DoctorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.isInputError = inputCodes.has(code);
  }
}
